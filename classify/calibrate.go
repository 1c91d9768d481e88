package classify

import (
	"math"
	"math/rand/v2"
)

// defaultScale is the softmax temperature used when the training set is too
// small to hold examples out for fitting one.
const defaultScale = 4

// calibrationFolds is how many folds the temperature is fitted over: three
// trainings on two thirds of the data, so training costs about three times a
// single fit.
const calibrationFolds = 3

// calibrate fits the softmax temperature that minimises the log-loss of
// held-out decision values (cross-validated over the training data), so that
// a confidence of 0.8 is right about 80 % of the time on texts like those
// trained on.
func calibrate(examples []Example, ys []int, labels []string, opts Options) float64 {
	folds, ok := stratifiedFolds(ys, len(labels), calibrationFolds)
	if !ok || len(examples) < 30 {
		return defaultScale
	}
	opts.Scale = 1
	var held [][]float64 // decision values of held-out examples
	var truth []int
	for f := range calibrationFolds {
		var trEx []Example
		var trY []int
		var teIdx []int
		for i, fi := range folds {
			if fi == f {
				teIdx = append(teIdx, i)
			} else {
				trEx = append(trEx, examples[i])
				trY = append(trY, ys[i])
			}
		}
		m := fit(trEx, trY, labels, opts)
		vals := make([][]float64, len(teIdx))
		parallel(len(teIdx), func(j int) { vals[j] = m.scores(m.vector(examples[teIdx[j]].Text)) })
		held = append(held, vals...)
		for _, i := range teIdx {
			truth = append(truth, ys[i])
		}
	}
	return fitTemperature(held, truth)
}

// fitTemperature minimises the mean negative log-likelihood of
// softmax(t·scores) over t in [0.1, 100] by golden-section search on log t
// (the loss is convex in t).
func fitTemperature(scores [][]float64, truth []int) float64 {
	nll := func(logT float64) float64 {
		t := math.Exp(logT)
		var sum float64
		for i, s := range scores {
			p := softmax(s, t)[truth[i]]
			sum -= math.Log(max(p, 1e-300))
		}
		return sum / float64(len(scores))
	}
	lo, hi := math.Log(0.1), math.Log(100)
	phi := (math.Sqrt(5) - 1) / 2
	a, b := hi-phi*(hi-lo), lo+phi*(hi-lo)
	fa, fb := nll(a), nll(b)
	for range 60 {
		if fa < fb {
			hi, b, fb = b, a, fa
			a = hi - phi*(hi-lo)
			fa = nll(a)
		} else {
			lo, a, fa = a, b, fb
			b = lo + phi*(hi-lo)
			fb = nll(b)
		}
	}
	return math.Exp((lo + hi) / 2)
}

// stratifiedFolds assigns each example a fold in [0, k): every label's
// examples, in a fixed-seed random order, dealt round-robin, so each fold has
// the label mix of the whole. ok is false when some label has fewer than k
// examples.
func stratifiedFolds(ys []int, nLabels, k int) (fold []int, ok bool) {
	byLabel := make([][]int, nLabels)
	for i, y := range ys {
		byLabel[y] = append(byLabel[y], i)
	}
	rng := rand.New(rand.NewPCG(7, 11))
	fold = make([]int, len(ys))
	ok = true
	next := 0
	for _, idx := range byLabel {
		if len(idx) < k {
			ok = false
		}
		rng.Shuffle(len(idx), func(a, b int) { idx[a], idx[b] = idx[b], idx[a] })
		for _, i := range idx {
			fold[i] = next % k
			next++
		}
	}
	return fold, ok
}
