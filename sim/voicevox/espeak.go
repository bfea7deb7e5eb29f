package voicevox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"

	"github.com/somsgo/soms/internal/voice"
)

// espeak renders text with espeak-ng and returns its 16-bit mono samples and
// rate. Text goes in on stdin as SSML (see speakable), never through a shell
// or the argument list.
type espeak struct {
	path  string
	voice string
}

// params are espeak-ng's rate (words per minute), pitch (0–99) and amplitude
// (0–200) derived from a style and a query.
type params struct {
	variant          string
	wpm, pitch, ampl int
}

func paramsFor(st style, q voice.AudioQuery) params {
	return params{
		variant: st.variant,
		wpm:     clamp(int(175*q.SpeedScale*st.speed+0.5), 80, 450),
		pitch:   clamp(50+st.pitch+int(q.PitchScale*300), 0, 99),
		ampl:    clamp(int(100*q.VolumeScale+0.5), 0, 200),
	}
}

func (e espeak) render(ctx context.Context, text string, p params) ([]int16, int, error) {
	v := e.voice
	if p.variant != "" {
		v += "+" + p.variant
	}
	cmd := exec.CommandContext(ctx, e.path, "-v", v, "-b", "1", "-m",
		"-s", strconv.Itoa(p.wpm), "-p", strconv.Itoa(p.pitch), "-a", strconv.Itoa(p.ampl),
		"--stdout", "--stdin")
	cmd.Stdin = strings.NewReader(speakable(text))
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, 0, ctx.Err()
		}
		return nil, 0, fmt.Errorf("espeak-ng: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	samples, info, err := voice.PCM16(out.Bytes())
	if err != nil {
		return nil, 0, fmt.Errorf("espeak-ng output: %w", err)
	}
	if info.Channels != 1 {
		return nil, 0, fmt.Errorf("espeak-ng output has %d channels, want 1", info.Channels)
	}
	return samples, info.SampleRate, nil
}

// check fails with a message naming the package when espeak-ng is missing,
// and when the voice does not exist.
func (e espeak) check(ctx context.Context) error {
	if _, err := exec.LookPath(e.path); err != nil {
		return fmt.Errorf("%s not found: the simulated VOICEVOX engine needs espeak-ng (Debian package espeak-ng: apt-get install espeak-ng, or run infra/scripts/deps.sh): %w", e.path, err)
	}
	// espeak-ng falls back to its default voice silently, so look it up.
	out, err := exec.CommandContext(ctx, e.path, "--voices").Output()
	if err != nil {
		return fmt.Errorf("%s --voices: %w", e.path, err)
	}
	if !hasVoice(string(out), e.voice) {
		return fmt.Errorf("espeak-ng has no voice %q (see espeak-ng --voices; the Japanese voice is \"ja\", in espeak-ng-data)", e.voice)
	}
	samples, _, err := e.render(ctx, "あ", params{wpm: 175, pitch: 50, ampl: 100})
	if err != nil {
		return fmt.Errorf("espeak-ng cannot speak with voice %q (is espeak-ng-data installed?): %w", e.voice, err)
	}
	if len(samples) == 0 {
		return errors.New("espeak-ng produced no audio for a test phrase")
	}
	return nil
}

// hasVoice reports whether the --voices listing names v as a language, voice
// name or file.
func hasVoice(listing, v string) bool {
	for _, line := range strings.Split(listing, "\n")[1:] {
		f := strings.Fields(line)
		if len(f) < 4 {
			continue
		}
		// Pty Language Age/Gender VoiceName File [Other languages]
		for _, name := range f[1:] {
			if strings.EqualFold(name, v) {
				return true
			}
		}
	}
	return false
}

// assemble shapes the engine's answer: pre/post silence, the output rate and
// channel count the query asks for.
func assemble(samples []int16, rate int, q voice.AudioQuery) []byte {
	pre := make([]int16, int(q.PrePhonemeLength*float64(rate)))
	post := make([]int16, int(q.PostPhonemeLength*float64(rate)))
	mono := make([]int16, 0, len(pre)+len(samples)+len(post))
	mono = append(append(append(mono, pre...), samples...), post...)
	mono = voice.Resample(mono, rate, q.OutputSamplingRate)
	if !q.OutputStereo {
		return voice.EncodeWAV(mono, q.OutputSamplingRate, 1)
	}
	stereo := make([]int16, 2*len(mono))
	for i, s := range mono {
		stereo[2*i], stereo[2*i+1] = s, s
	}
	return voice.EncodeWAV(stereo, q.OutputSamplingRate, 2)
}

func clamp(v, lo, hi int) int {
	return max(lo, min(hi, v))
}
