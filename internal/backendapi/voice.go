package backendapi

import (
	"strings"
	"time"
)

// Voice tones the brain's speak tool uses.
var VoiceTones = []string{"neutral", "caring", "humorous", "alert"}

// VoiceEvent is something the office said aloud (POST /voice-events/); the web
// dashboard and displays play AudioURL. An empty Zone means every zone.
type VoiceEvent struct {
	ID        int64     `json:"id,omitempty"`
	Message   string    `json:"message"`
	AudioURL  string    `json:"audio_url"`
	Zone      string    `json:"zone"`
	Tone      string    `json:"tone"`
	CreatedAt time.Time `json:"created_at,omitzero"`
}

// Validate checks a posted voice event and fills the default tone.
func (v *VoiceEvent) Validate() map[string]string {
	bad := map[string]string{}
	v.Message = strings.TrimSpace(v.Message)
	switch n := len([]rune(v.Message)); {
	case n == 0:
		bad["message"] = "required"
	case n > 1000:
		bad["message"] = "at most 1000 characters"
	}
	if len(v.AudioURL) > 2000 {
		bad["audio_url"] = "at most 2000 characters"
	}
	if len(v.Zone) > 100 {
		bad["zone"] = "at most 100 characters"
	}
	if v.Tone == "" {
		v.Tone = "neutral"
	} else if len(v.Tone) > 40 {
		bad["tone"] = "at most 40 characters"
	}
	return bad
}

// Chitchat is one pre-generated chit-chat phrase with its audio, kept in stock
// by the brain (POST /voice-events/chitchat-stock) and played by displays.
type Chitchat struct {
	ID        int64     `json:"id,omitempty"`
	Message   string    `json:"message"`
	AudioURL  string    `json:"audio_url"`
	Tone      string    `json:"tone"`
	CreatedAt time.Time `json:"created_at,omitzero"`
}

// Validate checks a posted chit-chat phrase.
func (c *Chitchat) Validate() map[string]string {
	v := VoiceEvent{Message: c.Message, AudioURL: c.AudioURL, Tone: c.Tone}
	bad := v.Validate()
	c.Message, c.Tone = v.Message, v.Tone
	return bad
}

// ChitchatStatus is GET /voice-events/chitchat-stock/status.
type ChitchatStatus struct {
	StockSize int `json:"stock_size"`
}
