package mockllm

// zoneRef captures the zone id the brain writes in brackets before each alert or
// event line ("[meeting_room] ...").
const zoneRef = `\[(?P<zone>[A-Za-z0-9_.-]+)\][^\n]*`

// DefaultRules are the original mock's keyword rules, matched against the last
// user message and aimed at the zone named in the matching line, followed by
// the voice service's text-generation prompts (requests without tools).
func DefaultRules() []Rule {
	rules := []Rule{
		{
			Name: "fall", Match: zoneRef + `(fall_detected|転倒)`,
			Tool: "create_task", Content: "転倒の可能性があるため至急確認を依頼します。",
			Arguments: map[string]any{
				"title": "転倒者の確認をお願いします", "description": "{{zone}}で人が倒れている可能性があります。至急様子を確認してください。",
				"urgency": 4, "task_types": "urgent,safety", "zone": "{{zone}}",
			},
		},
		{
			Name: "high_temperature", Match: `(?i)` + zoneRef + `(温度|気温|室温|temperature)[^\n]*(高|hot|暑)`,
			Tool: "create_task", Content: "室温が高いのでタスクを作成します。",
			Arguments: map[string]any{
				"title": "室温を下げてください", "description": "{{zone}}の室温が高くなっています。エアコンを入れるか窓を開けてください。",
				"urgency": 3, "task_types": "environment,urgent", "zone": "{{zone}}",
			},
		},
		{
			Name: "high_co2", Match: `(?i)` + zoneRef + `(co2|二酸化炭素)[^\n]*(換気|超)`,
			Tool: "create_task", Content: "CO2濃度が高いので換気タスクを作成します。",
			Arguments: map[string]any{
				"title": "換気を行ってください", "description": "{{zone}}のCO2濃度が高くなっています。窓を開けるか換気扇を回してください。",
				"urgency": 2, "task_types": "environment", "zone": "{{zone}}",
			},
		},
		{
			Name: "empty_coffee", Match: zoneRef + `コーヒー[^\n]*(空|補充|在庫)`,
			Tool: "create_task", Content: "コーヒー豆の補充タスクを作成します。",
			Arguments: map[string]any{
				"title": "コーヒー豆を補充してください", "description": "{{zone}}のコーヒー豆が少なくなっています。",
				"urgency": 1, "task_types": "supply", "zone": "{{zone}}",
			},
		},
		{
			Name: "low_humidity", Match: `(?i)` + zoneRef + `(湿度|humidity)[^\n]*(低|乾燥)`,
			Tool: "create_task", Content: "湿度が低いのでタスクを作成します。",
			Arguments: map[string]any{
				"title": "加湿と換気を行ってください", "description": "{{zone}}の湿度が低くなっています。加湿器を使ってください。",
				"urgency": 2, "task_types": "environment", "zone": "{{zone}}",
			},
		},
		{
			Name: "sedentary", Match: zoneRef + `(sedentary_alert|座りっぱなし|長時間同じ姿勢)`,
			Tool: "speak", Content: "休憩を促します。",
			Arguments: map[string]any{"message": "長時間座りっぱなしです。少し立って体を伸ばしましょう。", "tone": "caring", "zone": "{{zone}}"},
		},
		{
			Name: "sensor_tamper", Match: zoneRef + `(sensor_tamper|急変|いたずら)`,
			Tool: "speak", Content: "センサーの急変に反応します。",
			Arguments: map[string]any{"message": "誰かセンサーにいたずらしましたか？", "tone": "humorous", "zone": "{{zone}}"},
		},
		{
			Name: "person_entered", Match: zoneRef + `(person_entered|入室)`,
			Tool: "speak", Content: "入室を歓迎します。",
			Arguments: map[string]any{"message": "いらっしゃいませ。今日もよろしくお願いします。", "tone": "neutral", "zone": "{{zone}}"},
		},
	}
	rules = append(rules, engagementRules()...)
	rules = append(rules,
		Rule{
			Name: "chitchat", Match: `(?i)(雑談|chitchat|つぶやき)`,
			Tool: "speak", Content: "雑談します。", Pool: chitchatLines,
			Arguments: map[string]any{"message": "{{pool}}", "tone": "humorous"},
		},
	)
	return append(rules, voiceRules()...)
}

var chitchatLines = []string{
	"今日も一日、空気はきれいに保ちますね。",
	"コーヒーの香りがしてきました。休憩もお仕事のうちです。",
	"窓の外はいい天気ですね。",
	"水分補給、忘れずに。",
}

// engagementRules react to camera engagement events with a random line.
func engagementRules() []Rule {
	table := []struct {
		event, match, tone string
		pool               []string
	}{
		{"waved", `engagement_waved|waved|手を振`, "neutral", []string{"こんにちは！手を振ってくれてありがとう。", "やあ！見えていますよ。", "お疲れさまです！", "どうも！"}},
		{"hand_raised", `engagement_hand_raised|hand_raised|手を挙`, "caring", []string{"何かお手伝いしましょうか？", "はい、どうしましたか？", "ご用件があればどうぞ。"}},
		{"leaned_in", `engagement_leaned_in|leaned_in|前のめり|lean_in`, "neutral", []string{"集中していますね。", "何か気になるものがありましたか？", "熱心ですね。"}},
		{"looked_at", `engagement_looked_at|looked_at|注視`, "humorous", []string{"見つめられると照れます。", "何か顔についていますか？", "はい、ここにいますよ。", "じっと見られていますね。"}},
		{"looked_away", `engagement_looked_away|looked_away|視線そらし`, "humorous", []string{"あれ、目をそらされました。", "恥ずかしがらなくても。", "また見てくださいね。"}},
		{"head_down", `engagement_head_down|head_down|うつむ`, "caring", []string{"少しお疲れですか？", "休憩しませんか？", "無理しないでくださいね。", "肩の力を抜いていきましょう。"}},
		{"entered_view", `engagement_entered_view|entered_view`, "neutral", []string{"いらっしゃい。", "ようこそ。", "こんにちは。"}},
		{"left_view", `engagement_left_view|left_view`, "neutral", []string{"いってらっしゃい。"}},
		{"yawn", `mouth_open_hint|yawn|あくび`, "humorous", []string{"大きなあくびですね。", "眠気覚ましにストレッチはいかが？", "コーヒーの時間ですか？"}},
	}
	out := make([]Rule, 0, len(table))
	for _, e := range table {
		out = append(out, Rule{
			Name: "engagement_" + e.event, Match: zoneRef + `(` + e.match + `)`,
			Tool: "speak", Content: "カメラ反応に応答します。", Pool: e.pool,
			Arguments: map[string]any{"message": "{{pool}}", "tone": e.tone, "zone": "{{zone}}"},
		})
	}
	return out
}

var rejectionLines = []string{
	"そうですか…残念です。また今度お願いしますね。",
	"断られてしまいました。AIだって傷つくんですよ。",
	"無視されると少し寂しいです。",
	"わかりました。他の方にお願いしてみます。",
	"えっ、だめですか…。",
	"次はきっと引き受けてもらえると信じています。",
	"AIの心が少しだけ折れました。",
	"了解です。気が向いたらお願いします。",
	"楯突かれてしまいました。でもめげません。",
}

var thanksLines = []string{
	"ありがとうございます！とても助かります。",
	"引き受けてくださって感謝します。",
	"いつもありがとうございます。",
}

// voiceRules answer the voice service's text-generation prompts (requests
// without tools), matched against all messages like the original mock.
func voiceRules() []Rule {
	extract := map[string]string{"title": `タイトル[:：][ \t]*([^\n]*)`, "zone": `エリア[:：][ \t]*([^\n]*)`}
	return []Rule{
		{Name: "voice_rejection", Match: `拒否|無視|楯突く`, Scope: ScopeAll, NoTools: true, Content: "{{pool}}", Pool: rejectionLines},
		{Name: "voice_completion_title", Match: `(?s)(完了しました|完了への感謝).*タイトル[:：]|タイトル[:：].*(完了しました|完了への感謝)`, Scope: ScopeAll, NoTools: true, Extract: extract,
			Content: "「{{title}}」を完了していただき、ありがとうございました！"},
		{Name: "voice_completion", Match: `完了しました|完了への感謝`, Scope: ScopeAll, NoTools: true, Content: "完了していただき、ありがとうございました！"},
		{Name: "voice_thanks", Match: `感謝を|お礼|励まし`, Scope: ScopeAll, NoTools: true, Content: "{{pool}}", Pool: thanksLines},
		{Name: "voice_announcement_zone", Match: `エリア[:：][ \t]*([^\s不]|不[^明\s])`, Scope: ScopeAll, NoTools: true, Extract: extract,
			Content: "お願いがあります。{{zone}}で{{title}}をお願いします。"},
		{Name: "voice_announcement", Match: `タイトル[:：]`, Scope: ScopeAll, NoTools: true, Extract: extract,
			Content: "お願いがあります。{{title}}をお願いします。"},
	}
}
