@compat
Feature: Drop-in for the original SOMS
  Kiosks, scripts, dashboards and devices made for the original SOMS work
  against this one: its routes and field names answer as they did, ours stay
  beside them, and what the original accepted is accepted where it is safe
  (docs/compatibility.md lists what differs on purpose).

  Background:
    Given the office clock runs at 60 times real speed

  Scenario: The voice service answers in the original's shapes
    Then the voice service's "/" answers {"service": "SOMS Voice Service", "status": "running"}
    And the voice service's synthesize, announce and feedback answers carry "text_generated" and "duration_seconds" beside "text" and "duration"

  Scenario: The wall kiosk completes a task without a person, and nobody is paid
    Given a service posts the task "ホワイトボードを消す" for "meeting_room" 1 time
    When the kiosk accepts the task "ホワイトボードを消す" without a user
    And the kiosk completes the task "ホワイトボードを消す" with an empty body
    Then the completion says nobody is paid
    And the audit of "ホワイトボードを消す" records the completion as paying nobody
    And the task statistics carry the original's keys: tasks_created 1, tasks_completed 1, tasks_active 0, tasks_queued 0, tasks_completed_last_hour 1

  Scenario: A person completes a task nobody accepted, with an empty body, and is paid
    Given "hanako" has an account on the dashboard
    And a service posts the task "コピー用紙の補充" for "main" 1 time
    When "hanako" completes the task "コピー用紙の補充" without accepting it
    Then within 3 simulated minutes "hanako"'s wallet holds the task's reward

  Scenario: Sensor history, events and the brain's activity in the original's shapes
    Given the meeting room "meeting_room" is occupied by 6 people
    When the CO2 level in "meeting_room" rises to 1400 ppm
    Then within 5 simulated minutes the dashboard lists a ventilation task for "meeting_room"
    And the latest sensor readings carry "timestamp" beside "at"
    And the raw time series without zone or channel has points with "timestamp" and "avg"
    And the hourly time series of "co2" in "meeting_room" has points with "timestamp" and "avg"
    And within 2 simulated minutes the event feed lists "world_model_co2_threshold_exceeded" for "meeting_room"
    And the LLM activity counts at least 1 cycle with "cycles", "total_tool_calls", "avg_duration_sec" and "hours"

  Scenario: A device flashed with the original firmware joins, and its other topics are counted
    When a device with the original firmware's credential publishes "office/kitchen/sensor/scale_01/weight" {"value": 342.5}
    And it publishes "hydro/lettuce_raft/status" {"ph": 7.4, "ec": 1.2}
    Then within 2 simulated minutes the dashboard's latest "weight" readings show 342.5 from "scale_01"
    And the brain and the backend count the message under "hydro"
