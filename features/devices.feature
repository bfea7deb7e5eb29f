@devices
Feature: Devices are driven safely over MCP
  The brain operates allow-listed devices with JSON-RPC calls over MQTT. Hard
  safety limits hold even when the LLM asks for something unsafe, and a device
  that does not answer makes the call fail instead of hanging the brain.

  Background:
    Given the office clock runs at 60 times real speed

  @compose
  Scenario: An overheated office gets its air conditioning turned down
    Given the LLM answers prompts matching "高温" by calling "send_device_command" with:
      """
      {"agent_id": "hvac_01", "tool_name": "set_temperature", "arguments": "{\"temperature\": 24}"}
      """
    When the temperature in "main" rises to 29 °C
    Then within 5 simulated minutes the device "hvac_01" receives "set_temperature"
    And within 5 simulated minutes the air conditioning in "main" is set to 24 °C
    And within 5 simulated minutes the LLM is told "set_temperature on hvac_01"

  Scenario: A set point outside 18–28 °C never reaches the device
    Given the LLM answers prompts matching "高温" by calling "send_device_command" with:
      """
      {"agent_id": "hvac_01", "tool_name": "set_temperature", "arguments": "{\"temperature\": 30}"}
      """
    When the temperature in "main" rises to 29 °C
    Then within 5 simulated minutes the brain's decision log records a failed "send_device_command" saying "outside 18–28°C"
    And the device "hvac_01" has received no command

  Scenario: A device that never answers times out
    Given the LLM answers prompts matching "高温" by calling "send_device_command" with:
      """
      {"agent_id": "pump_01", "tool_name": "run_pump", "arguments": "{\"duration\": 30}"}
      """
    When the temperature in "main" rises to 29 °C
    Then within 5 simulated minutes the device "pump_01" receives "run_pump"
    And within 5 simulated minutes the brain's decision log records a failed "send_device_command" saying "timed out (10s)"
