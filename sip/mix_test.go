package sip

import (
	"io"
	"math"
	"testing"

	"github.com/emiago/diago/media"
)

// tone is one 20 ms PCMU frame of a sine at hz.
func tone(hz float64, frame int) []byte {
	pcm := make([]int16, frameSamples)
	for k := range pcm {
		pcm[k] = int16(8000 * math.Sin(2*math.Pi*hz*float64(frame*frameSamples+k)/8000))
	}
	return encodeG711(0, pcm)
}

// TestMixerNobodyHearsThemselves checks the mixing arithmetic without the
// network: each participant's output is the others' sum.
func TestMixerNobodyHearsThemselves(t *testing.T) {
	codecs := []media.Codec{{PayloadType: 0, SampleRate: 8000}, {PayloadType: 8, SampleRate: 8000}, {PayloadType: 0, SampleRate: 8000}}
	m := newMixer(codecs, []io.Writer{io.Discard, io.Discard, io.Discard})
	// Only participant 0 speaks.
	m.input(0).Write(tone(400, 0))
	sum, pcm := make([]int32, frameSamples), make([]int16, frameSamples)
	energy := func(i int) float64 {
		out := decodeG711(m.parts[i].pt, m.parts[i].next(sum, pcm))
		var e float64
		for _, v := range out {
			e += float64(v) * float64(v)
		}
		return e / float64(len(out))
	}
	if e := energy(0); e > 100 {
		t.Errorf("the speaker hears herself: energy %.0f", e)
	}
	for _, i := range []int{1, 2} {
		if e := energy(i); e < 1e6 {
			t.Errorf("participant %d does not hear the speaker: energy %.0f", i, e)
		}
	}
}

// BenchmarkConferenceSecond is one second of a three-way call: 50 frames in
// from each of three parties (decoded and queued for the other two) and 50
// mixed frames out to each. CPU per three-way call = ns/op ÷ 1e9.
// go test ./sip -run XXX -bench ConferenceSecond
func BenchmarkConferenceSecond(b *testing.B) {
	codecs := []media.Codec{{PayloadType: 0, SampleRate: 8000}, {PayloadType: 8, SampleRate: 8000}, {PayloadType: 0, SampleRate: 8000}}
	m := newMixer(codecs, []io.Writer{io.Discard, io.Discard, io.Discard})
	frames := [][]byte{tone(400, 0), tone(1000, 0), tone(1700, 0)}
	sum, pcm := make([]int32, frameSamples), make([]int16, frameSamples)
	for b.Loop() {
		for f := 0; f < 50; f++ {
			for i := range m.parts {
				m.input(i).Write(frames[i])
			}
			for _, p := range m.parts {
				p.next(sum, pcm)
			}
		}
	}
}
