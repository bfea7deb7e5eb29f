package brain

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/somsgo/soms/internal/backendapi"
	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/llm"
	"github.com/somsgo/soms/services/brain/quote"
)

// Chit-chat timing (docs/brain.md, "Devices, tasks, people").
const (
	chitchatFirst        = 60 * time.Second
	chitchatSpeakQuiet   = 300 * time.Second
	chitchatContext      = time.Hour
	stockFirst           = 90 * time.Second
	stockInterval        = 180 * time.Second
	stockTarget          = 8
	chitchatSystemPrompt = `あなたはオフィスの雰囲気づくりを担当するAI「SOMS」です。静かに作業している人たちに、
短く（40文字程度）、押し付けがましくない一言を speak で話しかけてください。時間帯や天気、オフィスの様子に合わせ、
直近の発話と同じ内容は避けてください。`
)

// chitchatLoop occasionally says something friendly to people working
// quietly: first after a minute, then every ChitchatInterval plus jitter.
func (b *brain) chitchatLoop(ctx context.Context) error {
	if b.cfg.ChitchatInterval <= 0 {
		<-ctx.Done()
		return nil
	}
	rng := rand.New(rand.NewPCG(uint64(b.clock.Now().UnixNano()), 7))
	t := clock.NewWorkTimer(b.clock, chitchatFirst)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C():
		}
		b.heldRound(ctx, t, func(ctx context.Context) time.Duration {
			b.chitchat(ctx)
			wait := b.cfg.ChitchatInterval
			if b.cfg.ChitchatJitter > 0 {
				wait += time.Duration(rng.Int64N(int64(b.cfg.ChitchatJitter)))
			}
			return wait
		})
	}
}

// heldRound does one round of a timed loop on t's tick and re-arms t for the
// wait the round returns. On a stepped clock the round holds the clock (as a
// decision cycle does, releasing it where it waits on a device or the
// clock), so what it says and remembers stands at the same simulated instant
// in every run: a speak at a wall-dependent step moved the speak cooldowns
// the decision cycles run into.
func (b *brain) heldRound(ctx context.Context, t clock.WorkTimer, round func(context.Context) time.Duration) {
	work := clock.NewHold(b.clock)
	t.Done() // the round's hold takes over from the tick's
	wait := round(clock.WithHold(ctx, work))
	t.Reset(wait)
	work.Release()
}

// quietZone returns a zone with people who are idle or calm, or "".
func (b *brain) quietZone() string {
	for _, z := range b.world.Zones() {
		if z.PersonCount == 0 {
			continue
		}
		switch z.Activity.Class {
		case "idle", "low", "unknown", "":
			return z.ID
		}
	}
	return ""
}

func (b *brain) chitchat(ctx context.Context) {
	zone := b.quietZone()
	if zone == "" {
		return
	}
	now := b.clock.Now()
	var spoken []string
	for _, a := range b.actionsSince(now.Add(-chitchatContext)) {
		if a.tool != "speak" {
			continue
		}
		if now.Sub(a.at) < chitchatSpeakQuiet {
			return // someone was spoken to a moment ago
		}
		spoken = append(spoken, quote.Text(a.summary, maxSummaryRunes))
	}
	if len(spoken) > 5 {
		spoken = spoken[len(spoken)-5:]
	}
	var state strings.Builder
	for _, z := range b.world.Zones() {
		state.WriteString(z.Describe())
	}
	user := fmt.Sprintf("現在時刻: %s\n対象ゾーン: %s\n\n%s\n直近の発話:\n- %s\n",
		now.In(b.loc).Format("15:04"), quote.ID(zone), state.String(), strings.Join(spoken, "\n- "))
	reply, err := b.askLLM(ctx, []llm.Message{
		{Role: llm.RoleSystem, Content: chitchatSystemPrompt},
		{Role: llm.RoleUser, Content: llm.Content(user)},
	}, speakOnly)
	if err != nil {
		b.log.Debug("chit-chat skipped: LLM unavailable", "err", err)
		return
	}
	for _, c := range reply.ToolCalls {
		if c.Function.Name != "speak" {
			continue
		}
		args, err := c.Function.Arguments.Decode()
		if err != nil {
			return
		}
		if str(args["zone"]) == "" {
			args["zone"] = zone
		}
		res := b.run(ctx, "speak", args)
		b.record("speak", args, res)
		return // only the first speak
	}
}

var speakOnly = func() []llm.Tool {
	for _, t := range toolSchemas {
		if t.Function.Name == "speak" {
			return []llm.Tool{t}
		}
	}
	return nil
}()

// chitchatStockLoop keeps the backend's stock of pre-synthesised chit-chat
// phrases (played by displays when idle) at stockTarget.
func (b *brain) chitchatStockLoop(ctx context.Context) error {
	if b.voice == nil || b.cfg.ChitchatInterval <= 0 {
		<-ctx.Done()
		return nil
	}
	t := clock.NewWorkTimer(b.clock, stockFirst)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C():
		}
		b.heldRound(ctx, t, func(ctx context.Context) time.Duration {
			if err := b.refillStock(ctx); err != nil {
				b.log.Debug("chit-chat stock not refilled", "err", err)
			}
			return stockInterval
		})
	}
}

type stockAPI interface {
	ChitchatStockStatus(ctx context.Context) (int, error)
	AddChitchat(ctx context.Context, in backendapi.Chitchat) error
}

func (b *brain) refillStock(ctx context.Context) error {
	stock, ok := b.dash.(stockAPI)
	if !ok {
		return nil
	}
	n, err := stock.ChitchatStockStatus(ctx)
	if err != nil || n >= stockTarget {
		return err
	}
	reply, err := b.askLLM(ctx, []llm.Message{
		{Role: llm.RoleSystem, Content: chitchatSystemPrompt},
		{Role: llm.RoleUser, Content: "オフィスのディスプレイで流す、短い雑談の一言を1つだけ書いてください（ツールは使わない）。"},
	}, nil)
	if err != nil {
		return err
	}
	text := strings.TrimSpace(llm.StripThink(string(reply.Content)))
	if text == "" {
		return fmt.Errorf("empty chit-chat text")
	}
	sctx, cancel := context.WithTimeout(ctx, b.cfg.SpeakTimeout)
	s, err := b.voice.Synthesize(sctx, text, "humorous")
	cancel()
	if err != nil {
		return err
	}
	if err := stock.AddChitchat(ctx, backendapi.Chitchat{Message: text, AudioURL: s.AudioURL, Tone: "humorous"}); err != nil {
		return err
	}
	b.remember(action{at: b.clock.Now(), tool: "speak", summary: "zone=stock, msg=" + text, success: true})
	return nil
}
