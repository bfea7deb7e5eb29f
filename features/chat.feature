Feature: People can ask the brain
  The brain answers questions about the office with read-only tools, in a few
  sentences.

  Scenario: Someone asks how the meeting room is
    Given the office clock runs at 60 times real speed
    And the LLM answers prompts matching "会議室" by calling "get_zone_status" with:
      """
      {"zone_id": "meeting_room"}
      """
    When a person asks the brain "会議室の様子はどうですか？"
    Then the brain answers in a few sentences
