// Package mcp is the JSON-RPC-over-MQTT tool protocol between the brain and edge
// devices (the original SOMS "MCP over MQTT"): requests on
// mcp/{agent}/request/call_tool, responses on mcp/{agent}/response/{id}.
package mcp

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// MethodCallTool is the only method devices implement.
const MethodCallTool = "call_tool"

// Request is a tool call sent to a device.
type Request struct {
	JSONRPC string `json:"jsonrpc"`
	Method  string `json:"method"`
	Params  Params `json:"params"`
	ID      string `json:"id"`
}

// Params names the tool and its arguments.
type Params struct {
	Name      string         `json:"name"`
	Arguments map[string]any `json:"arguments"`
	// Meta is MCP's _meta, sent only on a simulated clock; devices ignore
	// it.
	Meta *Meta `json:"_meta,omitempty"`
}

// Meta is what a call says about itself besides the tool.
type Meta struct {
	// SimTime is the simulated instant the call was sent at. A virtual
	// device answers its latency after it: its own connection may deliver
	// the call before or after the clock's next step reaches it, and the
	// answer must not move with that.
	SimTime *time.Time `json:"soms/sim_time,omitempty"`
}

// Response is a device's answer. Devices send Error as a plain string (not a
// JSON-RPC error object); objects are accepted too and flattened to text.
type Response struct {
	JSONRPC string          `json:"jsonrpc"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   ErrorText       `json:"error,omitempty"`
	ID      string          `json:"id"`
}

// ErrorText is a device error: a string, or a JSON-RPC error object's message.
type ErrorText string

// UnmarshalJSON accepts "text", {"message": "text", ...} or null.
func (e *ErrorText) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*e = ErrorText(s)
		return nil
	}
	var obj struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(b, &obj); err != nil {
		return fmt.Errorf("mcp error field: %w", err)
	}
	if obj.Message == "" && obj.Code == 0 {
		*e = ""
		return nil
	}
	*e = ErrorText(fmt.Sprintf("%s (code %d)", obj.Message, obj.Code))
	return nil
}

// MessageID names call id among the messages between processes that a
// stepped simulated clock waits for (clock.Sent, clock.Received).
func MessageID(id string) string { return "mcp:" + id }

// NewRequest builds a call_tool request.
func NewRequest(id, tool string, args map[string]any) Request {
	if args == nil {
		args = map[string]any{}
	}
	return Request{JSONRPC: "2.0", Method: MethodCallTool, Params: Params{Name: tool, Arguments: args}, ID: id}
}

// ParseRequest decodes and checks a request.
func ParseRequest(b []byte) (Request, error) {
	var r Request
	if err := json.Unmarshal(b, &r); err != nil {
		return Request{}, fmt.Errorf("mcp request: %w", err)
	}
	switch {
	case r.ID == "":
		return Request{}, errors.New("mcp request: missing id")
	case r.Method != MethodCallTool:
		return Request{}, fmt.Errorf("mcp request: unsupported method %q", r.Method)
	case r.Params.Name == "":
		return Request{}, errors.New("mcp request: missing tool name")
	}
	return r, nil
}

// Result builds a success response carrying v.
func Result(id string, v any) (Response, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return Response{}, fmt.Errorf("mcp result: %w", err)
	}
	return Response{JSONRPC: "2.0", Result: b, ID: id}, nil
}

// Failure builds an error response in the devices' plain-string form.
func Failure(id, msg string) Response {
	return Response{JSONRPC: "2.0", Error: ErrorText(msg), ID: id}
}
