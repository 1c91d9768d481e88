package sip

import (
	"encoding/binary"
	"io"
	"sync"

	"github.com/emiago/diago/audio"
	"github.com/emiago/diago/media"
)

// mixer carries a three-way call (三方通话). diago's Bridge joins two legs
// only, so the engine mixes: each participant's G.711 frames are decoded
// to 16-bit PCM as they arrive and queued for every other participant;
// for each participant one goroutine sums what the others said (clipped),
// encodes it in that participant's codec and writes a 20 ms frame, paced
// by the RTP writer's clock. Nobody hears themselves. The caller's output
// goes through the recorder like any audio to the caller, so the
// recording keeps the caller on the left and everyone else, mixed, on the
// right.
type mixer struct {
	parts []*mixPart
	done  chan struct{}
	wg    sync.WaitGroup
}

type mixPart struct {
	pt  uint8     // 0 PCMU, 8 PCMA
	out io.Writer // to this participant
	mu  sync.Mutex
	in  [][]int16 // per other participant: samples not yet sent to this one
}

const (
	frameSamples = 160 // 20 ms at 8 kHz
	// maxBacklog bounds what waits for one output (a sender faster than
	// the receiver's clock): older samples are dropped, so the delay
	// stays under 60 ms.
	maxBacklog = 3 * frameSamples
)

// mixable reports whether the mixer can decode and encode c.
func mixable(c media.Codec) bool {
	return (c.PayloadType == 0 || c.PayloadType == 8) && c.SampleRate == 8000
}

func newMixer(codecs []media.Codec, outs []io.Writer) *mixer {
	m := &mixer{done: make(chan struct{})}
	for i := range codecs {
		m.parts = append(m.parts, &mixPart{pt: codecs[i].PayloadType, out: outs[i], in: make([][]int16, len(codecs))})
	}
	return m
}

// input is where participant i's encoded audio goes.
func (m *mixer) input(i int) io.Writer { return mixInput{m: m, i: i} }

type mixInput struct {
	m *mixer
	i int
}

func (in mixInput) Write(b []byte) (int, error) {
	pcm := decodeG711(in.m.parts[in.i].pt, b)
	for j, p := range in.m.parts {
		if j == in.i {
			continue
		}
		p.mu.Lock()
		q := append(p.in[in.i], pcm...)
		if len(q) > maxBacklog {
			q = q[len(q)-maxBacklog:]
		}
		p.in[in.i] = q
		p.mu.Unlock()
	}
	return len(b), nil
}

func (m *mixer) start() {
	for i := range m.parts {
		m.wg.Add(1)
		go m.run(i)
	}
}

// stop ends the outputs and waits for them (each within one frame).
func (m *mixer) stop() {
	close(m.done)
	m.wg.Wait()
}

func (m *mixer) run(i int) {
	defer m.wg.Done()
	p := m.parts[i]
	sum := make([]int32, frameSamples)
	pcm := make([]int16, frameSamples)
	for {
		select {
		case <-m.done:
			return
		default:
		}
		if _, err := p.out.Write(p.next(sum, pcm)); err != nil {
			return
		}
	}
}

// next mixes the next 20 ms for this participant from what the others
// said (silence where they said nothing) and encodes it.
func (p *mixPart) next(sum []int32, pcm []int16) []byte {
	clear(sum)
	p.mu.Lock()
	for j, q := range p.in {
		n := min(len(q), frameSamples)
		for k := 0; k < n; k++ {
			sum[k] += int32(q[k])
		}
		p.in[j] = q[n:]
	}
	p.mu.Unlock()
	for k, v := range sum {
		pcm[k] = int16(max(-32768, min(32767, v)))
	}
	return encodeG711(p.pt, pcm)
}

func decodeG711(pt uint8, b []byte) []int16 {
	lpcm := make([]byte, 2*len(b))
	if pt == 8 {
		_, _ = audio.DecodeAlawTo(lpcm, b)
	} else {
		_, _ = audio.DecodeUlawTo(lpcm, b)
	}
	out := make([]int16, len(b))
	for i := range out {
		out[i] = int16(binary.LittleEndian.Uint16(lpcm[2*i:]))
	}
	return out
}

func encodeG711(pt uint8, pcm []int16) []byte {
	lpcm := make([]byte, 2*len(pcm))
	for i, v := range pcm {
		binary.LittleEndian.PutUint16(lpcm[2*i:], uint16(v))
	}
	out := make([]byte, len(pcm))
	if pt == 8 {
		_, _ = audio.EncodeAlawTo(out, lpcm)
	} else {
		_, _ = audio.EncodeUlawTo(out, lpcm)
	}
	return out
}
