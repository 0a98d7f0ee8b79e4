"""Call progress analysis: what a SIP response and the audio after the answer say about a dial.

- :mod:`.audio` reads and writes G.711 and WAV audio as 8 kHz 16-bit samples (numpy);
- :mod:`.tones` finds fax (CED, CNG, V.21) and special information tones (SIT) per 20 ms frame;
- :mod:`.amd` is answering-machine detection after Asterisk's ``app_amd`` (its settings and
  defaults, its cause strings), kept as ``asterisk_rule=1``;
- :mod:`.timing` is dialback's default live-or-machine rule: speech and pause durations
  (issue 15, docs/cpa.md);
- :mod:`.beep` finds the beep that ends a voicemail greeting;
- :mod:`.analyzer` puts them together: tones first, then speech, over a stream of frames, and maps
  SIP responses to outcomes.
"""
