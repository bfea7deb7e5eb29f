@reminders
Feature: Tasks nobody takes are announced again
  A task still open an hour after it was created is announced again, at most
  every thirty minutes, and the dashboard records when.

  Scenario: Nobody takes the paper refill for an hour
    Given the office clock runs at 120 times real speed
    And a service posts the task "コピー用紙の補充" for "main" 1 time with urgency 2
    Then within 75 simulated minutes the task "コピー用紙の補充" is announced again as a reminder
