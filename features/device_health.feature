@device_health
Feature: The brain knows which devices are alive
  Devices send heartbeats. One that stops is stale after two minutes and
  offline after fifteen; sleeping SensorSwarm leaves get their commands queued
  by the hub until they wake.

  Background:
    Given the office clock runs at 60 times real speed

  Scenario: A sensor that goes silent becomes stale, then offline
    Then within 3 simulated minutes the brain reports the device "env_02" as "online"
    When the device "env_02" goes offline
    Then within 5 simulated minutes the brain reports the device "env_02" as "stale"
    And within 20 simulated minutes the brain reports the device "env_02" as "offline"

  Scenario: A command for a sleeping leaf is queued by its hub
    Given the LLM answers prompts matching "現在のオフィスの状態" by calling "send_device_command" with:
      """
      {"agent_id": "swarm_hub_01", "tool_name": "leaf_command", "arguments": "{\"leaf_id\": \"leaf_door_01\", \"command\": \"read_now\"}"}
      """
    Then within 3 simulated minutes the brain reports the device "swarm_hub_01.leaf_door_01" as "sleeping"
    And within 5 simulated minutes the brain's decision log records "send_device_command" succeeding with "queued for next wake"
