@ventilation @co2
Feature: Ventilation when the air gets stuffy
  People breathing in a closed meeting room raise its CO2 level. When the level
  passes 1000 ppm the brain notices and asks someone to air the room out.

  @compose
  Scenario: A crowded meeting room gets a ventilation task
    Given the office clock runs at 60 times real speed
    And the meeting room "meeting_room" is occupied by 6 people
    When the CO2 level in "meeting_room" rises to 1400 ppm
    Then within 5 simulated minutes the dashboard lists a ventilation task for "meeting_room"
    And the ventilation task for "meeting_room" is listed only once

  Scenario: Fresh air in the meeting room needs no task
    Given the office clock runs at 60 times real speed
    And the meeting room "meeting_room" is occupied by 2 people
    When the CO2 level in "meeting_room" rises to 700 ppm
    Then for 5 simulated minutes the dashboard lists no task for "meeting_room"

  Scenario: The alert stays but no duplicate task is created over the next hour
    Given the office clock runs at 120 times real speed
    And the meeting room "meeting_room" is occupied by 6 people
    When the CO2 level in "meeting_room" rises to 1400 ppm
    Then within 5 simulated minutes the dashboard lists a ventilation task for "meeting_room"
    And for 50 simulated minutes the ventilation task for "meeting_room" stays listed only once
