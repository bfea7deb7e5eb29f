// Package voice is the voice service: it writes spoken texts for tasks with
// the LLM (announcements with a playful reward-unit name, completion thanks,
// stock reactions; templates when the LLM fails), synthesises them through a
// VOICEVOX engine (the real one in production, sim/voicevox in simulation),
// keeps the WAV files content-addressed on disk and serves them under /audio/.
package voice

import (
	"time"

	"github.com/somsgo/soms/internal/llm"
	"github.com/somsgo/soms/internal/service"
)

// Config is read from the environment; see `soms env voice`.
type Config struct {
	Common service.Common
	LLM    llm.Config

	Addr          string        `env:"VOICE_ADDR" default:":8002" doc:"HTTP listen address"`
	VoicevoxURL   string        `env:"VOICEVOX_URL" default:"http://voicevox:50021" doc:"VOICEVOX engine base URL (sim: soms voicevox-sim)"`
	Speaker       int           `env:"VOICEVOX_SPEAKER" default:"47" doc:"VOICEVOX style id (47: ナースロボ＿タイプＴ ノーマル, as the original)"`
	EngineTimeout time.Duration `env:"VOICEVOX_TIMEOUT" default:"60s" doc:"timeout of one audio_query+synthesis round"`
	LLMTimeout    time.Duration `env:"VOICE_LLM_TIMEOUT" default:"30s" doc:"timeout of one text-generation call; the template is used after it"`
	AudioDir      string        `env:"VOICE_AUDIO_DIR" default:"data/voice" doc:"directory of the WAV files (a volume in compose)"`
	PublicURL     string        `env:"VOICE_PUBLIC_URL" doc:"base URL put before /audio/<file> in answers; empty answers relative URLs like the original"`
	MaxText       int           `env:"VOICE_MAX_TEXT" default:"500" doc:"longest text (characters) /api/voice/synthesize accepts"`
	ServiceToken  string        `env:"INTERNAL_SERVICE_TOKEN" doc:"the stock clear endpoints require it as X-Service-Token; production (SOMS_CLOCK=wall) refuses a missing, placeholder or short one (at least 16 bytes)"`

	RejectionStock  int           `env:"VOICE_REJECTION_STOCK" default:"100" doc:"pre-generated rejection phrases kept (0 disables the refill)"`
	AcceptanceStock int           `env:"VOICE_ACCEPTANCE_STOCK" default:"50" doc:"pre-generated acceptance phrases kept (0 disables the refill)"`
	StockInterval   time.Duration `env:"VOICE_STOCK_INTERVAL" default:"30s" doc:"how often an idle service checks its stocks (clock time)"`
}
