package classify

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/hotline12345/hotline"
)

// The saved form is gzip over a little-endian binary layout:
//
//	magic "hotline-classify" version(uvarint)
//	MaxN MinDF Epochs (uvarint) C Scale (float64) flags (byte)
//	labels: count, then each as length + UTF-8
//	terms:  count, then each as length + UTF-8, then its IDF (float32)
//	weights: terms × labels float32 (feature-major), then one bias per label
//
// It has no maps and no timestamps, so one model always saves to the same
// bytes and nodes can compare models by hash.
const (
	magic         = "hotline-classify"
	formatVersion = 1
)

// Save writes the model in a compact binary form for the database or a file.
func (m *Model) Save(w io.Writer) error {
	zw, err := gzip.NewWriterLevel(w, gzip.BestSpeed)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(zw)
	var buf [binary.MaxVarintLen64]byte
	uv := func(v uint64) { bw.Write(buf[:binary.PutUvarint(buf[:], v)]) }
	str := func(s string) { uv(uint64(len(s))); bw.WriteString(s) }
	f32 := func(v float32) {
		binary.LittleEndian.PutUint32(buf[:4], math.Float32bits(v))
		bw.Write(buf[:4])
	}
	f64 := func(v float64) {
		binary.LittleEndian.PutUint64(buf[:8], math.Float64bits(v))
		bw.Write(buf[:8])
	}
	bw.WriteString(magic)
	uv(formatVersion)
	o := m.opts
	uv(uint64(o.MaxN))
	uv(uint64(o.MinDF))
	uv(uint64(o.Epochs))
	f64(o.C)
	f64(o.Scale)
	var flags byte
	for i, b := range []bool{o.NoWords, o.KeepStopWords, o.DropDigits} {
		if b {
			flags |= 1 << i
		}
	}
	bw.WriteByte(flags)
	uv(uint64(len(m.Labels)))
	for _, l := range m.Labels {
		str(l)
	}
	uv(uint64(len(m.Terms)))
	for i, t := range m.Terms {
		str(t)
		f32(m.idf[i])
	}
	for _, v := range m.w {
		f32(v)
	}
	for _, v := range m.bias {
		f32(v)
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return zw.Close()
}

// Limits that keep a corrupt or hostile model from allocating without bound.
const (
	maxLabels  = 1 << 16
	maxTerms   = 1 << 26
	maxTermLen = 1 << 10
)

var errCorrupt = errors.New("corrupt model")

// Load reads a model written by Save.
func Load(r io.Reader) (*Model, error) {
	m, err := load(r)
	if err != nil {
		return nil, hotline.Errorf(hotline.EINVALID, "无法读取分类模型：%v", "cannot load the classifier model: %v", err, err)
	}
	return m, nil
}

func load(r io.Reader) (*Model, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReader(zr)
	var rerr error
	uv := func() uint64 {
		if rerr != nil {
			return 0
		}
		v, err := binary.ReadUvarint(br)
		if err != nil {
			rerr = err
		}
		return v
	}
	var buf [maxTermLen]byte
	str := func() string {
		n := uv()
		if rerr != nil {
			return ""
		}
		if n > maxTermLen {
			rerr = errCorrupt
			return ""
		}
		if _, err := io.ReadFull(br, buf[:n]); err != nil {
			rerr = err
			return ""
		}
		return string(buf[:n])
	}
	u32 := func() uint32 {
		if rerr != nil {
			return 0
		}
		if _, err := io.ReadFull(br, buf[:4]); err != nil {
			rerr = err
			return 0
		}
		return binary.LittleEndian.Uint32(buf[:4])
	}
	f64 := func() float64 {
		if rerr != nil {
			return 0
		}
		if _, err := io.ReadFull(br, buf[:8]); err != nil {
			rerr = err
			return 0
		}
		return math.Float64frombits(binary.LittleEndian.Uint64(buf[:8]))
	}
	head := make([]byte, len(magic))
	if _, err := io.ReadFull(br, head); err != nil || string(head) != magic {
		return nil, errors.New("not a classifier model")
	}
	if v := uv(); rerr == nil && v != formatVersion {
		return nil, fmt.Errorf("model format version %d, this build reads %d", v, formatVersion)
	}
	var o Options
	o.MaxN, o.MinDF, o.Epochs = int(uv()), int(uv()), int(uv())
	o.C, o.Scale = f64(), f64()
	flags, err := br.ReadByte()
	if rerr == nil && err != nil {
		rerr = err
	}
	o.NoWords, o.KeepStopWords, o.DropDigits = flags&1 != 0, flags&2 != 0, flags&4 != 0
	if rerr == nil && (o.MaxN < 1 || o.MaxN > 8 || math.IsNaN(o.Scale) || o.Scale <= 0) {
		return nil, errCorrupt
	}
	m := &Model{opts: o, chars: map[string]int32{}, words: map[string]int32{}}
	nl := uv()
	if rerr == nil && (nl < 2 || nl > maxLabels) {
		return nil, errCorrupt
	}
	for range nl {
		if rerr != nil {
			break
		}
		m.Labels = append(m.Labels, str())
	}
	nt := uv()
	if rerr == nil && nt > maxTerms {
		return nil, errCorrupt
	}
	for i := uint64(0); i < nt && rerr == nil; i++ {
		t := str()
		m.Terms = append(m.Terms, t)
		m.idf = append(m.idf, math.Float32frombits(u32()))
		if w, ok := strings.CutPrefix(t, wordMark); ok {
			m.words[w] = int32(i)
		} else {
			m.chars[t] = int32(i)
		}
	}
	if rerr != nil {
		return nil, rerr
	}
	m.w = make([]float32, 0, min(nt*nl, 1<<24))
	for i := uint64(0); i < nt*nl && rerr == nil; i++ {
		m.w = append(m.w, math.Float32frombits(u32()))
	}
	for i := uint64(0); i < nl && rerr == nil; i++ {
		m.bias = append(m.bias, math.Float32frombits(u32()))
	}
	if rerr != nil {
		return nil, rerr
	}
	return m, nil
}
