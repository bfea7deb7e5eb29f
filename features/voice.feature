@voice
Feature: The office speaks
  Tasks are announced aloud when they are created, and the brain can talk to
  the people in a zone. Every utterance is stored as a voice event whose audio
  the dashboard plays.

  Background:
    Given the office clock runs at 60 times real speed

  @compose
  Scenario: A new task is announced with real audio
    Given the meeting room "meeting_room" is occupied by 6 people
    When the CO2 level in "meeting_room" rises to 1400 ppm
    Then within 5 simulated minutes the dashboard lists a ventilation task for "meeting_room"
    And the ventilation task for "meeting_room" has a spoken announcement of at least 1 second

  Scenario: The brain talks to people in a zone
    Given the LLM answers prompts matching "高温" by calling "speak" with:
      """
      {"message": "暑くなってきました。水分補給をしましょう", "zone": "kitchen", "tone": "caring"}
      """
    When the temperature in "kitchen" rises to 29 °C
    Then within 5 simulated minutes the office says "水分補給" in "kitchen" with audio
