package features

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cucumber/godog"

	"github.com/somsgo/soms/internal/backendapi"
	"github.com/somsgo/soms/internal/httpx"
	"github.com/somsgo/soms/internal/voice"
	"github.com/somsgo/soms/sim/harness"
)

func (o *office) registerVoice(sc *godog.ScenarioContext) {
	sc.Step(`^the ventilation task for "([^"]+)" has a spoken announcement of at least (\d+) seconds?$`, o.taskAnnounced)
	sc.Step(`^within (\d+) simulated minutes the office says "([^"]+)" in "([^"]+)" with audio$`, o.officeSaysWithin)
}

// fetchAudio downloads an audio URL the product handed out (relative ones are
// served by the voice service) and checks it is a playable WAV.
func (o *office) fetchAudio(ctx context.Context, raw string) (time.Duration, error) {
	base, _ := url.Parse(o.sys.URL(harness.Voice) + "/")
	ref, err := url.Parse(raw)
	if err != nil {
		return 0, fmt.Errorf("audio URL %q: %w", raw, err)
	}
	resp, err := o.api.Send(ctx, httpx.Request{Method: http.MethodGet, Path: base.ResolveReference(ref).String()})
	if err != nil {
		return 0, err
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "audio/") {
		return 0, fmt.Errorf("GET %s: Content-Type %q, want audio/*", raw, ct)
	}
	info, err := voice.ParseWAV(resp.Body)
	if err != nil {
		return 0, fmt.Errorf("GET %s: %w", raw, err)
	}
	return info.Duration(), nil
}

func (o *office) taskAnnounced(ctx context.Context, zone string, seconds int) error {
	ts, err := o.dash.ListTasks(ctx, backendapi.TaskFilter{Zone: zone})
	if err != nil {
		return err
	}
	for _, t := range ts {
		if !isVentilation(t) {
			continue
		}
		if t.AnnouncementAudioURL == nil || *t.AnnouncementAudioURL == "" || t.AnnouncementText == nil {
			return fmt.Errorf("task #%d %q has no announcement", t.ID, t.Title)
		}
		d, err := o.fetchAudio(ctx, *t.AnnouncementAudioURL)
		if err != nil {
			return err
		}
		if d < time.Duration(seconds)*time.Second {
			return fmt.Errorf("announcement %q lasts %v, want at least %ds", *t.AnnouncementText, d, seconds)
		}
		if t.CompletionAudioURL == nil || *t.CompletionAudioURL == "" {
			return fmt.Errorf("task #%d has no completion message", t.ID)
		}
		return nil
	}
	return fmt.Errorf("no ventilation task for %s", zone)
}

func (o *office) officeSaysWithin(ctx context.Context, minutes int, text, zone string) error {
	var said []string
	var found *backendapi.VoiceEvent
	err := o.within(ctx, time.Duration(minutes)*time.Minute, func() (bool, error) {
		evs, err := o.dash.RecentVoiceEvents(ctx)
		if err != nil {
			return false, err
		}
		said = said[:0]
		for i, ev := range evs {
			said = append(said, ev.Zone+": "+ev.Message)
			if ev.Zone == zone && strings.Contains(ev.Message, text) && ev.AudioURL != "" {
				found = &evs[i]
				return true, nil
			}
		}
		return false, nil
	})
	if errTimedOut(err) {
		return fmt.Errorf("%w; the office said %q", err, said)
	}
	if err != nil {
		return err
	}
	d, err := o.fetchAudio(ctx, found.AudioURL)
	if err == nil && d < 500*time.Millisecond {
		err = fmt.Errorf("speech %q lasts only %v", found.Message, d)
	}
	return err
}
