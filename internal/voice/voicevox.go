package voice

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// AudioQuery is VOICEVOX's synthesis parameters, answered by POST /audio_query
// and sent back to POST /synthesis. Field names are the engine's.
type AudioQuery struct {
	AccentPhrases      []AccentPhrase `json:"accent_phrases"`
	SpeedScale         float64        `json:"speedScale"`
	PitchScale         float64        `json:"pitchScale"`
	IntonationScale    float64        `json:"intonationScale"`
	VolumeScale        float64        `json:"volumeScale"`
	PrePhonemeLength   float64        `json:"prePhonemeLength"`
	PostPhonemeLength  float64        `json:"postPhonemeLength"`
	PauseLength        *float64       `json:"pauseLength"`
	PauseLengthScale   float64        `json:"pauseLengthScale"`
	OutputSamplingRate int            `json:"outputSamplingRate"`
	OutputStereo       bool           `json:"outputStereo"`
	Kana               string         `json:"kana,omitempty"`
}

// AccentPhrase is one accent phrase of an AudioQuery.
type AccentPhrase struct {
	Moras           []Mora `json:"moras"`
	Accent          int    `json:"accent"`
	PauseMora       *Mora  `json:"pause_mora"`
	IsInterrogative bool   `json:"is_interrogative"`
}

// Mora is one mora: its text, phonemes, lengths (s) and pitch.
type Mora struct {
	Text            string   `json:"text"`
	Consonant       *string  `json:"consonant"`
	ConsonantLength *float64 `json:"consonant_length"`
	Vowel           string   `json:"vowel"`
	VowelLength     float64  `json:"vowel_length"`
	Pitch           float64  `json:"pitch"`
}

// Speaker is one entry of GET /speakers.
type Speaker struct {
	Name              string         `json:"name"`
	SpeakerUUID       string         `json:"speaker_uuid"`
	Styles            []SpeakerStyle `json:"styles"`
	Version           string         `json:"version"`
	SupportedFeatures map[string]any `json:"supported_features,omitempty"`
}

// SpeakerStyle is a speaker's style; its ID is the "speaker" parameter.
type SpeakerStyle struct {
	Name string `json:"name"`
	ID   int    `json:"id"`
	Type string `json:"type,omitempty"`
}

// Engine calls a VOICEVOX engine's HTTP API.
type Engine struct {
	base string
	http *http.Client
}

// NewEngine returns a client for the engine at baseURL (VOICEVOX_URL). hc may
// be nil; deadlines come from contexts.
func NewEngine(baseURL string, hc *http.Client) (*Engine, error) {
	u, err := url.Parse(baseURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("VOICEVOX URL %q: want http(s)://host[:port]", baseURL)
	}
	if hc == nil {
		hc = &http.Client{}
	}
	return &Engine{base: strings.TrimRight(baseURL, "/"), http: hc}, nil
}

// Version returns the engine's version string.
func (e *Engine) Version(ctx context.Context) (string, error) {
	var v string
	err := e.do(ctx, http.MethodGet, "/version", nil, nil, &v)
	return v, err
}

// Speakers lists the engine's speakers and their styles.
func (e *Engine) Speakers(ctx context.Context) ([]Speaker, error) {
	var s []Speaker
	err := e.do(ctx, http.MethodGet, "/speakers", nil, nil, &s)
	return s, err
}

// AudioQuery asks the engine to analyse text for speaker.
func (e *Engine) AudioQuery(ctx context.Context, text string, speaker int) (AudioQuery, error) {
	var q AudioQuery
	params := url.Values{"text": {text}, "speaker": {strconv.Itoa(speaker)}}
	err := e.do(ctx, http.MethodPost, "/audio_query", params, nil, &q)
	return q, err
}

// Synthesis renders q with speaker and returns the WAV file.
func (e *Engine) Synthesis(ctx context.Context, q AudioQuery, speaker int) ([]byte, error) {
	var wav []byte
	err := e.do(ctx, http.MethodPost, "/synthesis", url.Values{"speaker": {strconv.Itoa(speaker)}}, q, &wav)
	return wav, err
}

// Synthesize is audio_query then synthesis, with adjust (may be nil) applied
// to the query in between.
func (e *Engine) Synthesize(ctx context.Context, text string, speaker int, adjust func(*AudioQuery)) ([]byte, error) {
	q, err := e.AudioQuery(ctx, text, speaker)
	if err != nil {
		return nil, err
	}
	if adjust != nil {
		adjust(&q)
	}
	return e.Synthesis(ctx, q, speaker)
}

// do sends a request; out is *[]byte for a raw body, else decoded JSON.
func (e *Engine) do(ctx context.Context, method, path string, params url.Values, in, out any) error {
	u := e.base + path
	if len(params) > 0 {
		u += "?" + params.Encode()
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("voicevox: encode %s: %w", path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return fmt.Errorf("voicevox: %w", err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := e.http.Do(req)
	if err != nil {
		return &Error{Msg: fmt.Sprintf("VOICEVOX %s %s: %v", method, path, err), Err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return &Error{Status: resp.StatusCode, Msg: fmt.Sprintf("VOICEVOX %s: reading answer: %v", path, err), Err: err}
	}
	if resp.StatusCode != http.StatusOK {
		return &Error{Status: resp.StatusCode, Msg: fmt.Sprintf("VOICEVOX %s: %s", path, errorMessage(data))}
	}
	if raw, ok := out.(*[]byte); ok {
		*raw = data
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return &Error{Status: resp.StatusCode, Msg: fmt.Sprintf("VOICEVOX %s: unexpected answer: %v", path, err), Err: err}
	}
	return nil
}
