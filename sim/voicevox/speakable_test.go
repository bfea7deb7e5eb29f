package voicevox

import "testing"

func TestSpeakable(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"こんにちは", "<speak>こんにちは</speak>"},
		{"meeting_roomで換気", `<speak> <voice name="en">meeting room</voice> で` + string(babble[int('換')%len(babble)]) + string(babble[int('換')/len(babble)%len(babble)]) + string(babble[int('気')%len(babble)]) + string(babble[int('気')/len(babble)%len(babble)]) + "</speak>"},
		{"a<b>&c", `<speak> <voice name="en">a</voice> &lt; <voice name="en">b</voice> &gt;&amp; <voice name="en">c</voice> </speak>`},
		{"CO2 1000", `<speak> <voice name="en">CO</voice> 2 1000</speak>`},
	} {
		if got := speakable(tc.in); got != tc.want {
			t.Errorf("speakable(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
