package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// MaxBody bounds request bodies read by Decode.
const MaxBody = 1 << 20

// ErrorBody is the JSON shape of every error response.
type ErrorBody struct {
	Error string `json:"error"`
	// Fields names invalid request fields and why, for validation errors.
	Fields map[string]string `json:"fields,omitempty"`
}

// WriteJSON writes v as JSON with status. v is encoded before anything is
// written, so that a value JSON cannot hold (±Inf, NaN) is a 500 with an
// error body rather than the status with an empty body.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		buf.Reset()
		status = http.StatusInternalServerError
		_ = json.NewEncoder(&buf).Encode(ErrorBody{Error: "the response could not be encoded as JSON: " + err.Error()})
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// Error writes {"error": msg} with status.
func Error(w http.ResponseWriter, status int, msg string) {
	WriteJSON(w, status, ErrorBody{Error: msg})
}

// Invalid writes a 422 naming each invalid field.
func Invalid(w http.ResponseWriter, fields map[string]string) {
	WriteJSON(w, http.StatusUnprocessableEntity, ErrorBody{Error: "validation failed", Fields: fields})
}

// StatusError carries an HTTP status for a request that cannot be served.
type StatusError struct {
	Status int
	Msg    string
}

func (e *StatusError) Error() string { return e.Msg }

// Decode reads a JSON body into dst. Errors are *StatusError (400 or 413) with a
// message that tells the client what is wrong.
func Decode(r *http.Request, dst any) error { return decode(r, dst, false) }

func decode(r *http.Request, dst any, optional bool) error {
	if optional && (r.Body == nil || r.Body == http.NoBody) {
		return nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, MaxBody))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return &StatusError{http.StatusRequestEntityTooLarge, fmt.Sprintf("request body exceeds %d bytes", MaxBody)}
	case err != nil:
		return &StatusError{http.StatusBadRequest, "reading the request body: " + err.Error()}
	case optional && len(bytes.TrimSpace(body)) == 0:
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(dst); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.Is(err, io.EOF):
			return &StatusError{http.StatusBadRequest, "request body is empty; a JSON object is required"}
		case errors.Is(err, io.ErrUnexpectedEOF):
			return &StatusError{http.StatusBadRequest, "malformed JSON: the body ends before the value does"}
		case errors.As(err, &syn):
			return &StatusError{http.StatusBadRequest, fmt.Sprintf("malformed JSON at byte %d", syn.Offset)}
		case errors.As(err, &typ):
			return &StatusError{http.StatusBadRequest, fmt.Sprintf("field %q must be %s, not %s", typ.Field, typ.Type, typ.Value)}
		default:
			return &StatusError{http.StatusBadRequest, "invalid JSON: " + err.Error()}
		}
	}
	if dec.More() {
		return &StatusError{http.StatusBadRequest, "request body must hold a single JSON value"}
	}
	if jsonHasNUL(body) {
		return &StatusError{http.StatusBadRequest, "the request body " + nulMessage}
	}
	return nil
}

// DecodeOrError decodes dst and, on failure, writes the error response; it
// reports whether the handler may continue.
func DecodeOrError(w http.ResponseWriter, r *http.Request, dst any) bool {
	return decodeOrError(w, r, dst, false)
}

// DecodeOptionalOrError is DecodeOrError for a body the client may leave out
// (the original SOMS accepted an empty PUT): dst keeps its zero value then.
func DecodeOptionalOrError(w http.ResponseWriter, r *http.Request, dst any) bool {
	return decodeOrError(w, r, dst, true)
}

func decodeOrError(w http.ResponseWriter, r *http.Request, dst any, optional bool) bool {
	if err := decode(r, dst, optional); err != nil {
		var se *StatusError
		if errors.As(err, &se) {
			Error(w, se.Status, se.Msg)
		} else {
			Error(w, http.StatusBadRequest, err.Error())
		}
		return false
	}
	return true
}
