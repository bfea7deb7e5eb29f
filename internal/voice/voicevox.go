package voice

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/somsgo/soms/internal/httpx"
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
	api httpx.Client
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
	return &Engine{api: httpx.Client{Name: "VOICEVOX", BaseURL: strings.TrimRight(baseURL, "/"), HTTP: hc, MaxAnswer: 64 << 20}}, nil
}

// Version returns the engine's version string.
func (e *Engine) Version(ctx context.Context) (string, error) {
	var v string
	err := e.api.Do(ctx, http.MethodGet, "/version", nil, &v)
	return v, callError("VOICEVOX /version", err)
}

// Speakers lists the engine's speakers and their styles.
func (e *Engine) Speakers(ctx context.Context) ([]Speaker, error) {
	var s []Speaker
	err := e.api.Do(ctx, http.MethodGet, "/speakers", nil, &s)
	return s, callError("VOICEVOX /speakers", err)
}

// AudioQuery asks the engine to analyse text for speaker.
func (e *Engine) AudioQuery(ctx context.Context, text string, speaker int) (AudioQuery, error) {
	var q AudioQuery
	params := url.Values{"text": {text}, "speaker": {strconv.Itoa(speaker)}}
	err := e.api.Do(ctx, http.MethodPost, "/audio_query?"+params.Encode(), nil, &q)
	return q, callError("VOICEVOX /audio_query", err)
}

// Synthesis renders q with speaker and returns the WAV file.
func (e *Engine) Synthesis(ctx context.Context, q AudioQuery, speaker int) ([]byte, error) {
	resp, err := e.api.Send(ctx, httpx.Request{Method: http.MethodPost, Path: "/synthesis?speaker=" + strconv.Itoa(speaker), JSON: q})
	if err != nil {
		return nil, callError("VOICEVOX /synthesis", err)
	}
	return resp.Body, nil
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
