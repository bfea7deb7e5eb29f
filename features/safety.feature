@safety
Feature: A fall is an emergency
  The cameras see someone lying on the floor. The brain treats it as critical:
  an urgency-4 task goes out at once, whatever the hour or the office's mode.

  Scenario: Someone falls in the kitchen
    Given the office clock runs at 60 times real speed
    And 1 person walks into "kitchen"
    And within 10 simulated minutes the brain counts 1 person in "kitchen"
    When a person in "kitchen" falls to the floor
    Then within 10 simulated minutes the brain notices "fall_detected" in "kitchen"
    And within 5 simulated minutes an urgent task with urgency 4 is listed for "kitchen"
