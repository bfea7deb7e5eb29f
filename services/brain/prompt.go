package brain

import (
	"fmt"
	"strings"
	"time"

	"github.com/somsgo/soms/internal/dashboard"
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
タスクのタイトルは日本語で簡潔に書く。1回のサイクルで作成するタスクは2件まで。`

// buildPrompt renders the user message: the office state, alerts, recent
// events, active tasks and the brain's own recent actions.
func buildPrompt(zones []worldmodel.Snapshot, events []worldmodel.Event, tasks []dashboard.Task, tasksErr error, actions []action, now time.Time) string {
	var b strings.Builder
	var alerts []string
	for _, z := range zones {
		for _, a := range z.Alerts() {
			alerts = append(alerts, fmt.Sprintf("- [%s] %s", z.ID, a.Line))
		}
	}
	if len(alerts) > 0 {
		b.WriteString("## 注意が必要な状態\n")
		b.WriteString(strings.Join(alerts, "\n"))
		b.WriteString("\n\n")
	}

	b.WriteString("## 現在のオフィスの状態\n")
	for _, z := range zones {
		b.WriteString(z.Describe())
	}
	b.WriteString("\n")

	if len(events) > 0 {
		b.WriteString("## 最近のイベント\n")
		for _, e := range events {
			fmt.Fprintf(&b, "- [%s] %s（%d分前）\n", e.Zone, e.Describe(), int(now.Sub(e.At).Minutes()))
		}
		b.WriteString("\n")
	}

	switch {
	case tasksErr != nil:
		b.WriteString("## アクティブなタスク\n（取得できませんでした。重複に注意してください）\n\n")
	case len(tasks) == 0:
		b.WriteString("## アクティブなタスク\nなし\n\n")
	default:
		b.WriteString("## アクティブなタスク\n")
		for i, t := range tasks {
			if i == 10 {
				break
			}
			fmt.Fprintf(&b, "- %s (%s) 種別:%s\n", t.Title, zoneOr(t.Zone), strings.Join(t.TaskType, ","))
		}
		b.WriteString("上記と同じ目的のタスクは作成しないでください。\n\n")
	}

	if len(actions) > 0 {
		b.WriteString("## 最近のあなたの行動\n")
		for _, a := range actions {
			mark := "✓"
			if !a.success {
				mark = "✗"
			}
			fmt.Fprintf(&b, "- %d分前: %s(%s) %s\n", int(now.Sub(a.at).Minutes()), a.tool, a.summary, mark)
		}
		b.WriteString("同じ行動を繰り返さないでください。\n")
	}
	return b.String()
}

func zoneOr(z *string) string {
	if z == nil || *z == "" {
		return "全体"
	}
	return *z
}
