package backend

import "strings"

// categories is the keyword table for server-side duplicate detection: a new
// task whose title or description falls in a category shared with an open task
// in the same zone updates that task instead of creating another. Keywords are
// lower-case substrings (Japanese as the brain writes titles, and English).
// Supplies are split by kind so that "refill coffee" never merges into
// "replace the toner".
var categories = []struct {
	Name  string
	Words []string
}{
	{"ventilation", []string{"co2", "二酸化炭素", "換気", "ventilat", "空気がこも", "stuffy"}},
	{"temperature", []string{"温度", "室温", "暑", "寒", "冷房", "暖房", "エアコン", "空調", "temperature", "too hot", "too cold", "air condition"}},
	{"humidity", []string{"湿度", "加湿", "除湿", "humidity", "humidif", "dehumidif"}},
	{"supplies_coffee", []string{"コーヒー", "珈琲", "coffee"}},
	{"supplies_printer", []string{"トナー", "印刷用紙", "コピー用紙", "プリンタ", "toner", "printer paper"}},
	{"supplies_water", []string{"給水", "ウォーターサーバー", "water bottle", "water server"}},
	{"cleaning", []string{"清掃", "掃除", "片付", "ゴミ", "ごみ", "こぼ", "clean", "trash", "garbage", "spill"}},
	{"lighting", []string{"照明", "電球", "蛍光灯", "light bulb", "lighting"}},
	{"device_check", []string{"電池", "バッテリー", "オフライン", "故障", "battery", "offline", "broken device"}},
}

// taskCategories classifies a task by its title, or by its description when
// the title names no category (descriptions often quote other readings, such
// as the temperature next to a CO2 alarm, so they only break ties).
func taskCategories(title, description string) []string {
	if c := categoriesOf(title); len(c) > 0 {
		return c
	}
	return categoriesOf(description)
}

// categoriesOf returns the categories whose keywords occur in s.
func categoriesOf(s string) []string {
	s = strings.ToLower(s)
	var out []string
	for _, c := range categories {
		for _, w := range c.Words {
			if strings.Contains(s, w) {
				out = append(out, c.Name)
				break
			}
		}
	}
	return out
}

// sharedCategory returns a category in both lists, or "".
func sharedCategory(a, b []string) string {
	for _, x := range a {
		for _, y := range b {
			if x == y {
				return x
			}
		}
	}
	return ""
}
