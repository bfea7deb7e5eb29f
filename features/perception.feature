@perception
Feature: The cameras tell the brain how many people are in a room
  Virtual cameras render the people of each zone; perception runs the
  YOLO-contract model on the RTSP streams and publishes the person count. Motion
  sensors can only say "somebody is there", so a count above one comes from the
  cameras.

  Background:
    Given the office clock runs at 60 times real speed

  @compose
  Scenario: A meeting that starts gets the room prepared
    Given the LLM answers prompts matching "\[meeting_room\] 入室を検知しました \([3-9]人\)" by calling "create_task" with:
      """
      {"title": "会議室の準備", "description": "プロジェクターとホワイトボードを準備してください", "zone": "meeting_room", "urgency": 2}
      """
    When 3 people walk into "meeting_room"
    Then within 10 simulated minutes the brain counts 3 people in "meeting_room"
    And within 10 simulated minutes the dashboard lists a task "会議室の準備" for "meeting_room"

  @compose
  Scenario: The room reads empty again after everyone leaves
    When 3 people walk into "meeting_room"
    Then within 10 simulated minutes the brain counts 3 people in "meeting_room"
    When everyone leaves "meeting_room"
    Then within 10 simulated minutes the brain counts 0 people in "meeting_room"
