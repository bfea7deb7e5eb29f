@activity_modes
Feature: An empty office rests
  When every zone has been empty for five minutes the brain switches to the
  inactive mode: no LLM calls, only the deterministic safety rules. It wakes up
  as soon as someone comes in.

  Scenario: Everyone goes home and someone comes back
    Given the office clock runs at 120 times real speed
    When everyone leaves the office
    Then within 20 simulated minutes the brain is in "inactive" mode
    And the brain does not consult the LLM for 15 simulated minutes
    When 2 people walk into "main"
    Then within 10 simulated minutes the brain is in "normal" mode
