// Package voice is the contract of the SOMS voice service and the clients that
// speak it: Client calls the voice service (the brain's speak, task
// announcements and reminders), Engine calls a VOICEVOX engine (the real one in
// production, sim/voicevox in simulation), and the WAV helpers read and write
// the audio both produce.
package voice

import (
	"fmt"

	"github.com/somsgo/soms/internal/httpx"
)

// Tones the voice service accepts for direct synthesis (the brain's speak tool).
const (
	ToneNeutral  = "neutral"
	ToneCaring   = "caring"
	ToneHumorous = "humorous"
	ToneAlert    = "alert"
)

// Tones lists the accepted tones; an empty tone means neutral.
var Tones = []string{ToneNeutral, ToneCaring, ToneHumorous, ToneAlert}

// ValidTone reports whether tone is empty or one of Tones.
func ValidTone(tone string) bool {
	if tone == "" {
		return true
	}
	for _, t := range Tones {
		if t == tone {
			return true
		}
	}
	return false
}

// Task is the task description the brain sends to be announced; the field
// names are the original SOMS ones.
type Task struct {
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	Location    string   `json:"location,omitempty"`
	Urgency     int      `json:"urgency"`
	Zone        string   `json:"zone,omitempty"`
	Bounty      int      `json:"bounty,omitempty"`
	TaskType    []string `json:"task_type,omitempty"`
}

// SynthesizeRequest is the body of POST /api/voice/synthesize.
type SynthesizeRequest struct {
	Text string `json:"text"`
	Tone string `json:"tone,omitempty"`
}

// AnnounceRequest is the body of POST /api/voice/announce and
// /api/voice/announce_with_completion.
type AnnounceRequest struct {
	Task Task `json:"task"`
}

// Speech is one synthesised utterance: POST /api/voice/synthesize and
// /api/voice/feedback/{type}. AudioURL is relative to the voice service
// ("/audio/<file>.wav") unless the service has a public base URL. The
// original SOMS named the text and duration text_generated and
// duration_seconds: both names are sent (NewSpeech), so its clients work too.
type Speech struct {
	AudioURL        string  `json:"audio_url"`
	Text            string  `json:"text"`
	Duration        float64 `json:"duration"`         // seconds
	TextGenerated   string  `json:"text_generated"`   // = Text (the original's name)
	DurationSeconds float64 `json:"duration_seconds"` // = Duration (the original's name)
}

// NewSpeech fills both the current and the original field names.
func NewSpeech(audioURL, text string, duration float64) Speech {
	return Speech{AudioURL: audioURL, Text: text, Duration: duration, TextGenerated: text, DurationSeconds: duration}
}

// Announcement is the answer of POST /api/voice/announce: the spoken task
// announcement and the playful reward-unit name it used.
type Announcement struct {
	Speech
	RewardUnit string `json:"reward_unit"`
	// Source says who wrote the text: "llm" or "template" (the LLM failed).
	Source string `json:"source"`
}

// DualAnnouncement is the answer of POST /api/voice/announce_with_completion.
// The brain forwards the four original fields to the backend's task.
type DualAnnouncement struct {
	AnnouncementAudioURL string  `json:"announcement_audio_url"`
	AnnouncementText     string  `json:"announcement_text"`
	AnnouncementDuration float64 `json:"announcement_duration"`
	CompletionAudioURL   string  `json:"completion_audio_url"`
	CompletionText       string  `json:"completion_text"`
	CompletionDuration   float64 `json:"completion_duration"`
	RewardUnit           string  `json:"reward_unit"`
}

// StockEntry is a pre-generated reaction phrase (GET /api/voice/rejection/random
// and /api/voice/acceptance/random).
type StockEntry struct {
	AudioURL string  `json:"audio_url"`
	Text     string  `json:"text"`
	Duration float64 `json:"duration,omitempty"`
}

// StockStatus is GET /api/voice/{rejection,acceptance}/status.
type StockStatus struct {
	StockCount   int  `json:"stock_count"`
	MaxStock     int  `json:"max_stock"`
	IsGenerating bool `json:"is_generating"`
	NeedsRefill  bool `json:"needs_refill"`
}

// Error is a failed call to the voice service or the engine: the HTTP status
// (0 when no usable answer came) and the server's message.
type Error struct {
	Status int
	Msg    string
	Err    error
}

func (e *Error) Error() string {
	if e.Status == 0 {
		return "voice: " + e.Msg
	}
	return fmt.Sprintf("voice: HTTP %d: %s", e.Status, e.Msg)
}

func (e *Error) Unwrap() error { return e.Err }

// callError makes an error of an httpx call an *Error; an answer's message is
// prefixed with what (when not empty), a transport error keeps its own text.
func callError(what string, err error) error {
	if err == nil {
		return nil
	}
	status, msg := httpx.StatusMessage(err)
	if status != 0 && what != "" {
		msg = what + ": " + msg
	}
	return &Error{Status: status, Msg: msg, Err: err}
}
