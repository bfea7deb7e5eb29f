@safety
Feature: Safety comes first
  The cameras see someone lying on the floor, or the air in a room becomes
  dangerous. The brain treats it as critical: the task goes out at once,
  whatever the hour, the office's mode, or the other tasks already open.

  Scenario: Someone falls in the kitchen
    Given the office clock runs at 60 times real speed
    And 1 person walks into "kitchen"
    And within 10 simulated minutes the brain counts 1 person in "kitchen"
    When a person in "kitchen" falls to the floor
    Then within 10 simulated minutes the brain notices "fall_detected" in "kitchen"
    And within 5 simulated minutes an urgent task with urgency 4 is listed for "kitchen"

  Scenario: A fall is handled while another task is open in the zone
    Given the office clock runs at 60 times real speed
    And 1 person walks into "kitchen"
    And within 10 simulated minutes the brain counts 1 person in "kitchen"
    And the CO2 level in "kitchen" rises to 1400 ppm
    And within 5 simulated minutes the dashboard lists a ventilation task for "kitchen"
    When a person in "kitchen" falls to the floor
    Then within 10 simulated minutes the brain notices "fall_detected" in "kitchen"
    And within 3 simulated minutes an urgent task with urgency 4 is listed for "kitchen"

  Scenario: Critical CO2 in one zone while another zone has a ventilation task
    Given the office clock runs at 60 times real speed
    And 2 people walk into "kitchen"
    And 4 people walk into "main"
    And the CO2 level in "kitchen" rises to 1400 ppm
    And within 5 simulated minutes the dashboard lists a ventilation task for "kitchen"
    When the CO2 level in "main" rises to 1800 ppm
    Then within 5 simulated minutes the dashboard lists a ventilation task for "main"
