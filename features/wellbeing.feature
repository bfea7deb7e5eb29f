@wellbeing
Feature: People who sit too long are reminded to move
  Perception measures how long people keep the same posture. After half an
  hour without moving the brain kindly suggests a break, by voice.

  Scenario: Two people sit still for half an hour
    Given the office clock runs at 120 times real speed
    And 2 people sit still at their desks in "main"
    Then within 45 simulated minutes the brain notices "sedentary_alert" in "main"
    And within 5 simulated minutes the office says something in "main" containing "体を伸ばしましょう"
