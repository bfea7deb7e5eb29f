@chat
Feature: People can ask the brain
  The brain answers questions about the office with read-only tools, in a few
  sentences. An answer carries what the brain's tools read from the office,
  so a chat that loses the question, the tool call or its result fails here.

  Scenario: Someone asks how the air is in the meeting room
    Given the office clock runs at 60 times real speed
    And the LLM answers prompts matching "会議室の空気" by calling "get_zone_status" with:
      """
      {"zone_id": "meeting_room"}
      """
    And the LLM answers tool results matching "CO2: (?P<co2>\d+)ppm" with "会議室のCO2濃度は{{co2}}ppmです。"
    When the CO2 level in "meeting_room" rises to 1300 ppm
    And within 5 simulated minutes the brain reads the "co2" of "meeting_room" as about 1300
    And a person asks the brain "会議室の空気はどうですか？"
    Then the brain answers in a few sentences
    And the brain's answer says the CO2 level is about 1300 ppm

  Scenario: Someone asks what is left to do
    Given the office clock runs at 60 times real speed
    And a service posts the task "コピー用紙の補充" for "main" 1 time with urgency 2
    And the LLM answers prompts matching "残っているタスク" by calling "get_active_tasks" with:
      """
      {}
      """
    And the LLM answers tool results matching "#\d+ (?P<title>[^\[\n]+) \[" with "未完了のタスクは「{{title}}」です。"
    When a person asks the brain "いま残っているタスクは？"
    Then the brain answers in a few sentences
    And the brain's answer names the task "コピー用紙の補充"
