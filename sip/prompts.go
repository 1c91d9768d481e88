package sip

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// The default prompts: Mandarin, 8 kHz mono 16-bit PCM, generated once by
// prompts/gen.sh (espeak-ng + sox) and embedded.
//
//go:embed prompts/*.wav
var defaultPrompts embed.FS

// Prompt names (files NAME.wav). An administrator replaces any of them by
// putting a file of the same name in Config.PromptsDir.
var promptNames = []string{
	"greeting", "greeting_en", "menu", "menu_en", "queue_wait", "queue_ahead", "queue_people", "hold",
	"overload", "callback_offer", "callback_ok", "transfer", "satisfaction", "thanks", "goodbye",
	"n0", "n1", "n2", "n3", "n4", "n5", "n6", "n7", "n8", "n9", "n10",
}

// loadPrompts reads every prompt into memory (a few hundred KB), from dir
// when it has the file and from the embedded defaults otherwise. Files are
// checked now, so a wrong format fails at start-up, not in a call.
func loadPrompts(dir string) (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, n := range promptNames {
		var b []byte
		var err error
		if dir != "" {
			b, err = os.ReadFile(filepath.Join(dir, n+".wav"))
			if err != nil && !os.IsNotExist(err) {
				return nil, err
			}
		}
		if b == nil {
			b, err = fs.ReadFile(defaultPrompts, "prompts/"+n+".wav")
			if err != nil {
				return nil, err
			}
		}
		if err := checkWav(b); err != nil {
			return nil, fmt.Errorf("prompt %s: %w", n, err)
		}
		out[n] = b
	}
	return out, nil
}

// checkWav accepts what calls can play: PCM, 16-bit, mono, 8 kHz.
func checkWav(b []byte) error {
	if len(b) < 44 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return fmt.Errorf("not a WAV file")
	}
	for i := 12; i+8 <= len(b); {
		id, size := string(b[i:i+4]), int(le32(b[i+4:]))
		if id == "fmt " && i+24 <= len(b) {
			format, ch, rate, bits := le16(b[i+8:]), le16(b[i+10:]), le32(b[i+12:]), le16(b[i+22:])
			if (format != 1 && format != 0xFFFE) || ch != 1 || rate != 8000 || bits != 16 {
				return fmt.Errorf("need PCM 16-bit mono 8000 Hz, got format %d, %d channels, %d Hz, %d bits (sox in.wav -r 8000 -c 1 -b 16 out.wav)", format, ch, rate, bits)
			}
			return nil
		}
		i += 8 + size + size%2
	}
	return fmt.Errorf("WAV without fmt chunk")
}

func le16(b []byte) uint16 { return uint16(b[0]) | uint16(b[1])<<8 }
func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

// numberPrompts says n (0–99) in Mandarin: 七, 十二, 三十五.
func numberPrompts(n int) []string {
	n = max(0, min(n, 99))
	d := func(i int) string { return "n" + fmt.Sprint(i) }
	switch {
	case n < 10:
		return []string{d(n)}
	case n < 20:
		if n == 10 {
			return []string{"n10"}
		}
		return []string{"n10", d(n - 10)}
	default:
		out := []string{d(n / 10), "n10"}
		if n%10 != 0 {
			out = append(out, d(n%10))
		}
		return out
	}
}
