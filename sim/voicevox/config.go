// Package voicevox is the simulator's VOICEVOX engine: the subset of the
// VOICEVOX HTTP API the voice service uses (/version, /speakers, /audio_query,
// /synthesis), answering real WAV audio produced by espeak-ng's Japanese
// voice. A client written for the real engine cannot tell the difference in
// shape; the voice is a robot's. A control API under /control injects faults
// (latency, error statuses) and reports what was synthesised.
package voicevox

import "github.com/somsgo/soms/internal/service"

// Config is read from the environment; see `soms env voicevox-sim`.
type Config struct {
	Common  service.Common
	Addr    string `env:"VOICEVOX_SIM_ADDR" default:":50021" doc:"HTTP listen address (the real engine's port)"`
	Espeak  string `env:"VOICEVOX_SIM_ESPEAK" default:"espeak-ng" doc:"espeak-ng executable (Debian package espeak-ng)"`
	Voice   string `env:"VOICEVOX_SIM_VOICE" default:"ja" doc:"espeak-ng voice the styles are variants of"`
	Workers int    `env:"VOICEVOX_SIM_WORKERS" default:"2" doc:"espeak-ng processes run at once; more requests wait"`
	MaxText int    `env:"VOICEVOX_SIM_MAX_TEXT" default:"1000" doc:"longest text (characters) /audio_query accepts"`
}
