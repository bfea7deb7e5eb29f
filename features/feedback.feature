@feedback
Feature: People's reports reach the brain
  When someone completes a task with a note, the report goes to the brain over
  MQTT and stays in its prompt for half an hour, flagged when it needs action.

  Scenario: A task that could not be fully resolved is flagged for the brain
    Given the office clock runs at 60 times real speed
    And "hanako" has an account on the dashboard
    And the meeting room "meeting_room" is occupied by 6 people
    When the CO2 level in "meeting_room" rises to 1400 ppm
    Then within 5 simulated minutes the dashboard lists a ventilation task for "meeting_room"
    When "hanako" accepts the ventilation task for "meeting_room"
    And "hanako" completes it reporting "needs_followup" with the note "窓の鍵が壊れていて開かない"
    Then within 5 simulated minutes the LLM's prompt shows '"窓の鍵が壊れていて開かない"） ⚠要対応'
