@llm_faults
Feature: The office stays safe when the LLM misbehaves
  The original brain simply did nothing when its LLM failed. Here the
  deterministic rule engine takes over, and the quirks of local model servers
  (reasoning blocks, tool calls written as text) are understood.

  Background:
    Given the office clock runs at 60 times real speed
    And the meeting room "meeting_room" is occupied by 6 people

  @compose
  Scenario: The LLM is down and the rule engine asks for ventilation
    Given the LLM answers the brain with HTTP 500
    When the CO2 level in "meeting_room" rises to 1400 ppm
    Then within 5 simulated minutes the dashboard lists a ventilation task for "meeting_room"
    And within 1 simulated minutes the brain's decision log shows a "rule_fallback" decision
    And the ventilation task for "meeting_room" is listed only once

  Scenario: The LLM answers with broken JSON
    Given the LLM answers the brain with broken JSON
    When the CO2 level in "meeting_room" rises to 1400 ppm
    Then within 5 simulated minutes the dashboard lists a ventilation task for "meeting_room"
    And within 1 simulated minutes the brain's decision log shows a "rule_fallback" decision

  Scenario: A reasoning model that writes tool calls as text is still understood
    Given the LLM thinks aloud and writes its tool calls as text
    When the CO2 level in "meeting_room" rises to 1400 ppm
    Then within 5 simulated minutes the dashboard lists a ventilation task for "meeting_room"
    And within 1 simulated minutes the brain's decision log shows a "llm" decision

  Scenario: A fall is handled while the LLM hangs
    Given the LLM never answers the brain
    And 1 person walks into "kitchen"
    And within 10 simulated minutes the brain counts 1 person in "kitchen"
    When a person in "kitchen" falls to the floor
    Then within 10 simulated minutes the brain notices "fall_detected" in "kitchen"
    And within 3 simulated minutes an urgent task with urgency 4 is listed for "kitchen"
