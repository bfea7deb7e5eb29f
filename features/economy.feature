@economy
Feature: Tasks pay people in credits
  People take the physical tasks the brain cannot do. Completing one pays its
  reward into the person's wallet exactly once, and the brain hears how it went.

  Background:
    Given the office clock runs at 60 times real speed

  @compose
  Scenario: Hanako airs the meeting room and is paid once
    Given "hanako" has an account on the dashboard
    And the meeting room "meeting_room" is occupied by 6 people
    When the CO2 level in "meeting_room" rises to 1400 ppm
    Then within 5 simulated minutes the dashboard lists a ventilation task for "meeting_room"
    When "hanako" accepts the ventilation task for "meeting_room"
    And "hanako" completes it reporting "resolved" with the note "窓を開けました"
    Then within 3 simulated minutes "hanako"'s wallet holds the task's reward
    And completing it again does not pay "hanako" twice
    And within 2 simulated minutes the brain hears the report "resolved" for "meeting_room"

  Scenario: The same request twice becomes one task
    When a service posts the task "コピー用紙の補充" for "main" 2 times
    Then the dashboard lists 1 task titled "コピー用紙の補充" for "main"

  Scenario: Writes without the right credentials are refused
    Given "hanako" has an account on the dashboard
    And "taro" has an account on the dashboard
    And a service posts the task "観葉植物の水やり" for "main" 1 time
    Then posting a task without the service token is refused with 401
    And accepting the task "観葉植物の水やり" without signing in is refused with 401
    And "taro" accepting the task "観葉植物の水やり" for "hanako" is refused with 403
