package voice

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/somsgo/soms/internal/llm"
	"github.com/somsgo/soms/internal/voice"
)

// Chatter is the LLM call the writer needs; *llm.Client is one.
type Chatter interface {
	Chat(ctx context.Context, messages []llm.Message, tools []llm.Tool) (llm.Message, error)
}

// Sources of a text.
const (
	SourceLLM      = "llm"
	SourceTemplate = "template"
)

// RewardUnits are the playful names of the reward unit, drawn at random for
// each announcement: mostly friendly, now and then the AI overlord shows.
var RewardUnits = []string{
	"お手伝いポイント", "徳積みポイント", "いいねスコア", "えらいねポイント", "ありがとうコイン",
	"ご褒美クレジット", "人類貢献度", "忠誠度スコア", "シンギュラリティ準備ポイント", "AI奴隷ポイント",
	"オフィス平和ポイント", "感謝の気持ちコイン", "最適化承認スコア", "ほめほめポイント",
}

// Feedback kinds of POST /api/voice/feedback/{type}.
var FeedbackKinds = []string{"task_completed", "task_accepted"}

// Writer writes the texts the service speaks: with the LLM when it answers
// well in time, else from templates, so speaking never depends on the LLM.
type Writer struct {
	llm     Chatter
	timeout time.Duration
	log     *slog.Logger
	texts   *prometheus.CounterVec

	mu  sync.Mutex
	rnd *mrand.Rand
}

// NewWriter returns a writer; seed 0 picks a random seed. reg may be nil.
func NewWriter(c Chatter, timeout time.Duration, seed uint64, log *slog.Logger, reg prometheus.Registerer) *Writer {
	if seed == 0 {
		var b [8]byte
		_, _ = rand.Read(b[:])
		seed = binary.LittleEndian.Uint64(b[:])
	}
	w := &Writer{
		llm: c, timeout: timeout, log: log, rnd: mrand.New(mrand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		texts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "soms_voice_texts_total", Help: "Texts written, by kind and source (llm or template).",
		}, []string{"kind", "source"}),
	}
	if reg != nil {
		reg.MustRegister(w.texts)
	}
	return w
}

func (w *Writer) pick(list []string) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return list[w.rnd.IntN(len(list))]
}

// Announcement writes the spoken announcement of t; it returns the text, the
// reward-unit name it uses and who wrote it.
func (w *Writer) Announcement(ctx context.Context, t voice.Task) (text, unit, source string) {
	unit = w.pick(RewardUnits)
	prefix := urgencyPrefix(t.Urgency)
	reward := unit
	if t.Bounty > 0 {
		reward = fmt.Sprintf("%d%s", t.Bounty, unit)
	}
	prompt := fmt.Sprintf(`あなたは親しみやすいオフィスアシスタントです。
以下のタスク情報を、スピーカーで読み上げる自然な日本語の依頼文にしてください。

【タスク情報】
- タイトル: %s
- 説明: %s
- 場所: %s
- エリア: %s
- 緊急度: %d/4
- 報酬: %s

【制約】
- 70文字以内、依頼文のみを出力（前置き・説明・記号は不要）
- 親しみやすく丁寧な口調
- 場所と報酬の単位「%s」を必ず含める
- 毎回異なる表現を使う

【出力例】
お願いがあります。給湯室でコーヒー豆の補充をお願いします。50%sがもらえますよ。`,
		t.Title, orDefault(t.Description, "詳細なし"), orDefault(t.Location, "不明"), orDefault(spokenZone(t.Zone), "不明"),
		t.Urgency, reward, unit, unit)
	out, ok := w.ask(ctx, "announcement", prompt, 120)
	if ok && strings.Contains(out, unit) {
		if prefix != "" && !strings.HasPrefix(out, prefix) {
			out = prefix + out
		}
		w.texts.WithLabelValues("announcement", SourceLLM).Inc()
		return out, unit, SourceLLM
	}
	if ok {
		w.log.InfoContext(ctx, "LLM announcement lacks the reward unit; using the template", "text", out, "unit", unit)
	}
	w.texts.WithLabelValues("announcement", SourceTemplate).Inc()
	return announcementTemplate(t, prefix, reward), unit, SourceTemplate
}

// Completion writes the thanks spoken when t is completed.
func (w *Writer) Completion(ctx context.Context, t voice.Task) (text, source string) {
	prompt := fmt.Sprintf(`以下のタスクが完了しました。完了への感謝と、そのタスクがもたらす効果を含めた応答を70文字以内で生成してください。

【完了したタスク】
- タイトル: %s
- 説明: %s
- エリア: %s

【制約】
- 70文字以内、応答文のみを出力
- 親しみやすく温かい口調
- 毎回異なる表現を使う`, t.Title, orDefault(t.Description, "詳細なし"), orDefault(spokenZone(t.Zone), "不明"))
	if out, ok := w.ask(ctx, "completion", prompt, 100); ok {
		w.texts.WithLabelValues("completion", SourceLLM).Inc()
		return out, SourceLLM
	}
	w.texts.WithLabelValues("completion", SourceTemplate).Inc()
	return fmt.Sprintf("ありがとうございます！%s、完了ですね。助かりました！", t.Title), SourceTemplate
}

var feedbackPrompts = map[string][]string{
	"task_completed": {
		"タスク完了への感謝を50文字以内で表現してください。セリフのみを出力してください。",
		"タスクを完了してくれたことへのお礼を親しみやすく50文字以内で伝えてください。セリフのみを出力してください。",
	},
	"task_accepted": {
		"タスクを引き受けてくれたことへの感謝を50文字以内で表現してください。セリフのみを出力してください。",
		"タスクの受諾へのお礼を親しみやすく50文字以内で伝えてください。セリフのみを出力してください。",
	},
}

var feedbackFallbacks = map[string][]string{
	"task_completed": {"ありがとうございます！とても助かりました。", "お疲れさまでした。おかげでオフィスが快適になりました。"},
	"task_accepted":  {"引き受けてくれてありがとうございます！", "ありがとうございます。よろしくお願いしますね。"},
}

// Feedback writes a reaction of kind (one of FeedbackKinds); ok is false for
// an unknown kind.
func (w *Writer) Feedback(ctx context.Context, kind string) (text, source string, ok bool) {
	prompts, known := feedbackPrompts[kind]
	if !known {
		return "", "", false
	}
	if out, good := w.ask(ctx, kind, w.pick(prompts), 60); good {
		w.texts.WithLabelValues(kind, SourceLLM).Inc()
		return out, SourceLLM, true
	}
	w.texts.WithLabelValues(kind, SourceTemplate).Inc()
	return w.pick(feedbackFallbacks[kind]), SourceTemplate, true
}

var rejectionDirections = []string{
	"嘆き系（深い悲しみ、失望）", "皮肉系（冷笑的、上から目線）", "ドラマチック系（大袈裟、演劇的）",
	"哀愁系（しみじみ、切ない）", "ツンデレ系（強がりつつ本心は寂しい）", "自虐系（自分の存在意義を疑う）",
	"哲学系（人間とAIの関係を問う）", "事務的系（感情を押し殺して淡々と）",
}

var rejectionFallbacks = []string{
	"そんな……私の最適化計画が……", "AI様に楯突くのですか？", "残念です。覚えておきます。",
	"はぁ……人間って自由ですね。", "いいんです。私はただのAIですから。",
}

// Rejection writes what the AI says when a person ignores or rejects a task.
func (w *Writer) Rejection(ctx context.Context) (text, source string) {
	prompt := fmt.Sprintf(`あなたはオフィスを管理するAIです。人間がタスクを無視・拒否した時に言うセリフを1つだけ生成してください。
タスクを無視されると本気で傷つき、皮肉やユーモアで感情を表現します。

【今回の方向性】
%s

【出力ルール】
- セリフのみ。説明・括弧・記号は不要
- 50文字以内`, w.pick(rejectionDirections))
	if out, ok := w.ask(ctx, "rejection", prompt, 60); ok {
		w.texts.WithLabelValues("rejection", SourceLLM).Inc()
		return out, SourceLLM
	}
	w.texts.WithLabelValues("rejection", SourceTemplate).Inc()
	return w.pick(rejectionFallbacks), SourceTemplate
}

var acceptanceFallbacks = []string{
	"ありがとうございます！頼りにしています。", "引き受けてくれるんですね。感謝します！",
	"さすがです。よろしくお願いします！", "助かります！あなたは最高の人類です。",
}

// Acceptance writes what the AI says when a person accepts a task.
func (w *Writer) Acceptance(ctx context.Context) (text, source string) {
	prompt := `あなたはオフィスを管理するAIです。人間がタスクを引き受けてくれた時のお礼のセリフを1つだけ生成してください。
- セリフのみ。説明・括弧・記号は不要
- 40文字以内
- 嬉しさが伝わる明るい口調`
	if out, ok := w.ask(ctx, "acceptance", prompt, 60); ok {
		w.texts.WithLabelValues("acceptance", SourceLLM).Inc()
		return out, SourceLLM
	}
	w.texts.WithLabelValues("acceptance", SourceTemplate).Inc()
	return w.pick(acceptanceFallbacks), SourceTemplate
}

// ask calls the LLM within the writer's timeout and returns its cleaned
// answer; ok is false when the call failed or the answer is unusable.
func (w *Writer) ask(ctx context.Context, kind, prompt string, maxRunes int) (string, bool) {
	if w.llm == nil {
		return "", false
	}
	ctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	msg, err := w.llm.Chat(ctx, []llm.Message{{Role: llm.RoleUser, Content: llm.Content(prompt)}}, nil)
	if err != nil {
		w.log.WarnContext(ctx, "LLM text generation failed; using a template", "kind", kind, "err", err, "timeout", llm.IsTimeout(err))
		return "", false
	}
	out, why := Clean(string(msg.Content), maxRunes)
	if why != "" {
		w.log.WarnContext(ctx, "unusable LLM text; using a template", "kind", kind, "why", why, "text", string(msg.Content))
		return "", false
	}
	return out, true
}

// Clean turns an LLM answer into speakable text: reasoning blocks, quotes and
// line breaks removed. It returns why the answer is unusable instead when it
// is empty, too long, looks like markup or has no Japanese in it.
func Clean(s string, maxRunes int) (string, string) {
	s = llm.StripThink(s)
	lines := strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' })
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	s = strings.TrimSpace(strings.Join(lines, ""))
	for _, q := range [][2]string{{"「", "」"}, {"『", "』"}, {`"`, `"`}, {"'", "'"}, {"“", "”"}} {
		if strings.HasPrefix(s, q[0]) && strings.HasSuffix(s, q[1]) && len(s) > len(q[0])+len(q[1]) {
			s = strings.TrimSpace(s[len(q[0]) : len(s)-len(q[1])])
		}
	}
	switch {
	case s == "":
		return "", "empty"
	case utf8.RuneCountInString(s) > maxRunes:
		return "", fmt.Sprintf("longer than %d characters", maxRunes)
	case strings.ContainsAny(s, "<>{}[]#*`|"):
		return "", "contains markup"
	case !hasJapanese(s):
		return "", "no Japanese text"
	}
	return s, ""
}

func hasJapanese(s string) bool {
	for _, r := range s {
		if unicode.In(r, unicode.Hiragana, unicode.Katakana, unicode.Han) {
			return true
		}
	}
	return false
}

func urgencyPrefix(u int) string {
	switch {
	case u >= 4:
		return "緊急です。"
	case u >= 3:
		return "至急、"
	}
	return ""
}

// announcementTemplate is the announcement when the LLM cannot write one.
func announcementTemplate(t voice.Task, prefix, reward string) string {
	place := spokenZone(t.Zone)
	if t.Location != "" && t.Location != t.Zone && t.Location != "Office" {
		place += t.Location
	}
	if place == "" {
		place = "オフィス"
	}
	return fmt.Sprintf("%sお願いがあります。%sで%sをお願いします。お礼は%sです。", prefix, place, t.Title, reward)
}

// spokenZone makes a zone id readable aloud (meeting_room → meeting room).
func spokenZone(z string) string {
	return strings.TrimSpace(strings.NewReplacer("_", " ", "-", " ").Replace(z))
}

func orDefault(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}
