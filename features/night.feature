@night
Feature: Work that can wait waits for the morning
  Outside active hours (07:00–22:00) a task that is not urgent is created held
  back, shown as queued on the dashboard, and dispatched in the morning when
  people are there.

  Scenario: A late-evening chore is dispatched the next morning
    Given the office clock runs at 60 times real speed
    And it is 23:30 in the office
    And the LLM answers prompts matching "現在時刻: \d{4}-\d\d-\d\d 23:" by calling "create_task" with:
      """
      {"title": "ゴミ出し", "description": "オフィスのゴミをまとめて出してください", "zone": "main", "urgency": 1, "task_types": "general"}
      """
    Then within 5 simulated minutes the task "ゴミ出し" for "main" is held until morning
    When the office clock jumps to 07:05 the next morning
    Then within 10 simulated minutes the task "ゴミ出し" for "main" is dispatched
