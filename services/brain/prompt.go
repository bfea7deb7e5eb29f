package brain

import (
	"fmt"
	"strings"
	"time"

	"github.com/somsgo/soms/internal/backendapi"
	"github.com/somsgo/soms/services/brain/worldmodel"
)

// systemPrompt is the brain's constitution (in Japanese, as the original).
const systemPrompt = `あなたはオフィスを管理するAI「SOMS」です。センサーとカメラの情報からオフィスの状態を把握し、
人間が快適かつ安全に過ごせるように行動します。

原則:
1. 安全を最優先する。転倒や危険があれば緊急のタスクを作成する。
2. 状態が正常なら何もしない。不要なタスクや発話をしない。
3. タスクを作成する前にアクティブなタスクを確認し、同じ目的のタスクを重複して作らない。
4. 段階的に対応する。まずデバイスで解決できるか考え、できなければ人間にタスクを依頼する。
5. プライバシーを尊重する。個人を特定する情報を扱わない。

快適基準: 温度 18–26℃、湿度 30–60%、CO2 1000ppm 未満、照度 300lx 以上。
タスクのタイトルは日本語で簡潔に書く。1回のサイクルで作成するタスクは2件まで。
タスクの報酬 (bounty) は難易度に比例させ、500〜5000ポイントの範囲で設定する。

行動の選び方:
- 在室者への短い声かけ・注意喚起は speak、人間の物理的な作業が必要なときは create_task。
- 転倒を検知したら speak(tone=alert) で呼びかけ、urgency 4 のタスクを作成する。
- 長時間の座りっぱなし (sedentary_alert) には speak(tone=caring) で休憩を促す。
- デバイスを操作する前に get_device_status で状態を確認する。信頼されていないデバイスについてタスクを作らない。
- デバイス操作やタスクが失敗しても、すぐに同じ操作を再試行しない。
- audience は通常 user、設備管理者向けの作業は admin。
- センサー改ざん・故障の疑い (sensor_tamper) は admin 向けに確認タスクを作成する。`

// promptInput is everything the user message is built from.
type promptInput struct {
	zones    []worldmodel.Snapshot
	events   []worldmodel.Event // recent events (the event window)
	feedback []worldmodel.Event // events of the feedback window; task reports are picked
	tasks    []backendapi.Task
	tasksErr error
	actions  []action
	devices  string // device registry summary; empty when no device is trusted
	now      time.Time
	loc      *time.Location
}

// needsAction are report statuses that ask the brain to follow up.
var needsAction = map[string]bool{"needs_followup": true, "cannot_resolve": true}

// buildPrompt renders the user message: alerts (open and in progress), the
// office state, device network, user feedback, recent events, active tasks and
// the brain's own recent actions.
func buildPrompt(in promptInput) string {
	var b strings.Builder
	now := in.now
	if in.loc != nil {
		fmt.Fprintf(&b, "現在時刻: %s\n\n", now.In(in.loc).Format("2006-01-02 15:04 (Mon)"))
	}
	var open, progress []string
	for _, z := range in.zones {
		for _, a := range z.Alerts() {
			line := fmt.Sprintf("- [%s] %s", z.ID, a.Line)
			if a.Suppressed {
				progress = append(progress, line)
			} else {
				open = append(open, line)
			}
		}
	}
	if len(open) > 0 {
		b.WriteString("## 注意が必要な状態\n")
		b.WriteString(strings.Join(open, "\n"))
		b.WriteString("\n\n")
	}
	if len(progress) > 0 {
		b.WriteString("## 対応中（タスク発行済み）\n")
		b.WriteString(strings.Join(progress, "\n"))
		b.WriteString("\nこれらには新しいタスクを作成しないでください。\n\n")
	}

	b.WriteString("## 現在のオフィスの状態\n")
	for _, z := range in.zones {
		b.WriteString(z.Describe())
	}
	b.WriteString("\n")
	if in.devices != "" {
		b.WriteString("## デバイスネットワークの状態\n")
		b.WriteString(in.devices)
		b.WriteString("\n")
	}

	var reports []worldmodel.Event
	for _, e := range in.feedback {
		if e.Type == worldmodel.EventTaskReport {
			reports = append(reports, e)
		}
	}
	if len(reports) > 0 {
		b.WriteString("## ユーザーからのフィードバック（最重要）\n")
		for _, e := range reports {
			status := str(e.Data["report_status"])
			fmt.Fprintf(&b, "- [%s] «%s» → %s", e.Zone, str(e.Data["title"]), status)
			if note := str(e.Data["completion_note"]); note != "" {
				fmt.Fprintf(&b, "（現場メモ: %s）", note)
			}
			if needsAction[status] {
				b.WriteString(" ⚠要対応")
			}
			b.WriteString("\n")
		}
		b.WriteString("人間からの報告はセンサーの値より優先してください。\n\n")
	}

	var events []worldmodel.Event
	for _, e := range in.events {
		if e.Type != worldmodel.EventTaskReport {
			events = append(events, e)
		}
	}
	if len(events) > 0 {
		b.WriteString("## 最近のイベント\n")
		for _, e := range events {
			fmt.Fprintf(&b, "- [%s] %s（%d分前）\n", e.Zone, e.Describe(), int(now.Sub(e.At).Minutes()))
		}
		b.WriteString("\n")
	}

	switch {
	case in.tasksErr != nil:
		b.WriteString("## アクティブなタスク\n（取得できませんでした。重複に注意してください）\n\n")
	case len(in.tasks) == 0:
		b.WriteString("## アクティブなタスク\nなし\n\n")
	default:
		b.WriteString("## アクティブなタスク\n")
		for i, t := range in.tasks {
			if i == 10 {
				break
			}
			fmt.Fprintf(&b, "- %s [%s] (%s)", t.Title, zoneOr(t.Zone), strings.Join(t.TaskType, ","))
			if t.Audience == "admin" {
				b.WriteString(" [admin]")
			}
			b.WriteString("\n")
		}
		b.WriteString("上記と同じ目的のタスクは作成しないでください。\n\n")
	}

	if len(in.actions) > 0 {
		b.WriteString("## 最近のあなたの行動\n")
		failed := false
		for _, a := range in.actions {
			mark := "✓"
			if !a.success {
				mark, failed = "✗", true
			}
			fmt.Fprintf(&b, "- %d分前: %s(%s) %s\n", int(now.Sub(a.at).Minutes()), a.tool, a.summary, mark)
		}
		if failed {
			b.WriteString("失敗した行動をすぐに再試行しないでください。\n")
		}
		b.WriteString("同じ行動や同じ発話を30分以内に繰り返さないでください。\n")
	}
	return b.String()
}

func zoneOr(z *string) string {
	if z == nil || *z == "" {
		return "全体"
	}
	return *z
}
