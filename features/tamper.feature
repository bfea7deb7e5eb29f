@tamper
Feature: A tampered sensor is noticed
  A sensor whose reading jumps further than physics allows is flagged, and the
  brain says something about it instead of acting on the false value.

  Scenario: Someone breathes on the kitchen's humidity sensor
    Given the office clock runs at 60 times real speed
    And within 5 simulated minutes the brain knows the "humidity" of "kitchen"
    When someone warms the "humidity" sensor of "env_03" by 25
    Then within 10 simulated minutes the brain notices "sensor_tamper" in "kitchen"
    And within 5 simulated minutes the office says something in "kitchen" containing "いたずら"
    And for 5 simulated minutes the dashboard lists no task for "kitchen"
