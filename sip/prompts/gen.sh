#!/bin/sh
# Generates the default voice prompts (Mandarin, 8 kHz mono 16-bit PCM WAV,
# what G.711 calls carry). Run once; the WAV files are committed and
# embedded in the binary, so neither espeak-ng nor sox is needed at run
# time. Administrators replace prompts with recordings of a real voice by
# pointing --prompts-dir at a directory holding files of the same names.
#
# Needs: espeak-ng (Mandarin voice cmn-latn-pinyin; pinyin input, digits
# written 幺二三 as yao1 er4 san1) and sox.
set -eu
cd "$(dirname "$0")"
say() { # name voice text
	espeak-ng -v "$2" -s 165 -w /tmp/prompt-$$.wav "$3"
	sox /tmp/prompt-$$.wav -r 8000 -c 1 -b 16 "$1.wav" gain -n -3
	rm -f /tmp/prompt-$$.wav
}
zh() { say "$1" cmn-latn-pinyin "$2"; }

zh greeting "nin2 hao3, huan1 ying2 zhi4 dian4 yao1 er4 san1 si4 wu3 zheng4 wu4 fu2 wu4 bian4 min2 re4 xian4."
say greeting_en en "Welcome to the twelve three four five government service hotline."
zh menu "pu3 tong1 hua4 fu2 wu4 qing3 an4 yi1. qi3 ye4 fu2 wu4 qing3 an4 er4."
say menu_en en "For English service, press three."
zh queue_wait "zuo4 xi2 zheng4 mang2, qing3 shao1 hou4."
zh queue_ahead "nin2 qian2 mian4 hai2 you3"
zh queue_people "wei4 lai2 dian4, qing3 nai4 xin1 deng3 hou4."
zh overload "dang1 qian2 lai2 dian4 jiao4 duo1. ru2 nin2 zi1 xun2 jin4 qi1 zheng4 ce4, ke3 deng1 lu4 zheng4 fu3 wang3 zhan4 cha2 xun2."
zh callback_offer "ru2 xu1 wo3 men5 hui2 bo1, qing3 an4 yi1. ji4 xu4 deng3 hou4 qing3 bu2 yao4 gua4 ji1."
zh callback_ok "yi3 wei4 nin2 deng1 ji4 hui2 bo1, wo3 men5 jiang1 jin4 kuai4 hui2 dian4, zai4 jian4."
zh transfer "zheng4 zai4 wei4 nin2 zhuan3 jie1, qing3 shao1 hou4."
zh satisfaction "qing3 dui4 ben3 ci4 fu2 wu4 ping2 jia4. fei1 chang2 man3 yi4 qing3 an4 wu3, man3 yi4 an4 si4, ji1 ben3 man3 yi4 an4 san1, bu4 man3 yi4 an4 er4, fei1 chang2 bu4 man3 yi4 an4 yi1."
zh thanks "gan3 xie4 nin2 de5 ping2 jia4, zai4 jian4."
zh goodbye "gan3 xie4 nin2 de5 lai2 dian4, zai4 jian4."
for d in 0:ling2 1:yi1 2:er4 3:san1 4:si4 5:wu3 6:liu4 7:qi1 8:ba1 9:jiu3 10:shi2; do
	zh "n${d%%:*}" "${d#*:}"
done
# Hold music: a soft two-tone chime, not a voice.
sox -n -r 8000 -c 1 -b 16 hold.wav synth 0.6 sine 523 sine 659 : synth 0.6 sine 587 : synth 1.8 sine 0 gain -12 2>/dev/null ||
	sox -n -r 8000 -c 1 -b 16 hold.wav synth 3 sine 440 gain -15
