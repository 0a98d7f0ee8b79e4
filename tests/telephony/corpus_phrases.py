"""Who says what in the wide labelled set (``corpus_wide``): the voices, live answers, greeting
sentences, recorded prompts and beep frequencies of each part. Nothing is in both parts
(``test_cpa_heldback`` checks it)."""

from __future__ import annotations

from dataclasses import dataclass

PARTS = ("tuning", "heldback")


@dataclass(frozen=True, slots=True)
class Voice:
    synth: str  # espeak, flite, festival, allison
    name: str  # the synthesiser's voice (espeak: language+variant)
    pitch: int = 50  # espeak only (0-99)

    def __str__(self) -> str:
        return f"{self.synth}:{self.name}" + (f":p{self.pitch}" if self.synth == "espeak" else "")


VOICES: dict[str, list[Voice]] = {
    "tuning": [
        Voice("espeak", "en-us", 45),
        Voice("espeak", "en-us+m3", 35),
        Voice("espeak", "en-us+f2", 60),
        Voice("espeak", "en-us+f2", 92),  # a child, as near as espeak gets
        Voice("espeak", "en-gb+m1", 40),
        Voice("espeak", "en-gb+f1", 55),
        Voice("espeak", "en-gb-x-rp+klatt", 50),
        Voice("espeak", "en-029+m2", 30),
        Voice("flite", "kal"),
        Voice("flite", "slt"),
        Voice("festival", "kal_diphone"),
    ],
    "heldback": [
        Voice("espeak", "en-gb-scotland+f3", 60),
        Voice("espeak", "en-us-nyc+m4", 40),
        Voice("espeak", "en-gb-x-gbclan+f4", 70),
        Voice("espeak", "en-gb-x-gbcwmd+m6", 25),
        Voice("espeak", "en-us+Annie", 95),  # a child-like voice
        Voice("espeak", "en-gb+croak", 20),  # an older voice
        Voice("flite", "awb"),
        Voice("flite", "rms"),
        Voice("festival", "ked_diphone"),
        Voice("festival", "cmu_us_slt_arctic_hts"),
        Voice("allison", "en_US_f_Allison"),
    ],
}

# Live answers: one word, two words, a name or a company, a question, a grunt.
LIVE: dict[str, list[str]] = {
    "tuning": [
        "Hello?", "Hello.", "Hi.", "Yes?", "Yeah?", "Speaking.", "Hiya.",
        "Hello there.", "Yes, hello?", "Hi there.", "Mike speaking.", "Good morning.",
        "Hello, Mike speaking.", "Acme, this is Sara.", "This is David, hello?",
        "Good afternoon, Johnson residence.", "Hi, Karen here.", "Hello, accounts, Peter speaking.",
        "Who is this?", "Hello, who's calling?", "Can I help you?", "Yes, what is it?", "Uh huh?",
    ],
    "heldback": [
        "Hey.", "Yep?", "Hallo?", "Morning!", "Hullo?", "Evening.",
        "Yes please?", "Hey there.", "Tom here.", "Go ahead.", "Hello again.",
        "Hi, it's Priya.", "Globex, Daniel speaking.", "Doctor Patel's office.",
        "Hello, this is Fiona.", "Initech, how can I help?", "Reception, Maria speaking.",
        "Who's this?", "Hello, who is it?", "Sorry, who's calling?", "What's up?",
        "Yes, can I help?", "Yeah, go on?", "Mm, hello?",
    ],
}  # fmt: skip

# Greetings, as sentences (a recorded greeting pauses between them): one sentence, long, carrier.
GREETINGS: dict[str, dict[str, list[list[str]]]] = {
    "tuning": {
        "short": [
            ["Hi, it's Mike, leave a message."],
            ["You've reached Sara, please leave a message after the beep."],
            ["This is the Johnson residence, leave your name and number."],
            ["Hey, it's Dave, you know what to do."],
            ["Sorry I missed you, leave a message."],
        ],
        "long": [
            ["Hi, you have reached the Smith family.", "We can't come to the phone right now.",
             "Please leave a message after the tone."],
            ["Hello, this is John.", "I am not available right now.",
             "Leave your name and number and I will call you back."],
            ["Thank you for calling Acme Plumbing.", "Our office is closed.",
             "Our hours are eight to five, Monday to Friday.", "Please leave a message."],
            ["Hi, this is Karen.", "I'm either on the other line or away from my desk.",
             "Leave me a message and I'll get back to you as soon as I can.", "Thanks."],
        ],
        "carrier": [
            ["The person you are trying to reach is not available.",
             "At the tone, please record your message.",
             "When you are finished, hang up or press pound for more options."],
            ["The number you have called, five five five, one two three four, is not available.",
             "Please leave a message after the tone."],
            ["Your call has been forwarded to an automatic voice message system.",
             "Seven one four, five five five, zero one nine nine, is not available."],
        ],
    },
    "heldback": {
        "short": [
            ["Priya here, leave a message and I'll call back."],
            ["You've got Tom's phone, speak after the tone."],
            ["Leave a message for the Garcia family."],
            ["Not here right now, leave your details."],
            ["It's Fiona, I'll get back to you."],
        ],
        "long": [
            ["Good day, you've reached Globex Corporation.", "All our staff are busy.",
             "Please leave your name, number, and a short message, and we will return your call."],
            ["Hey, this is Leo.", "Can't talk right now.", "Send me a text or leave a voicemail."],
            ["Welcome to Doctor Patel's surgery.", "The practice is now closed.",
             "If this is an emergency, please hang up and dial nine nine nine."],
            ["Hello, Martin and Julia here.", "We're away until Monday.",
             "Leave a message and we'll ring you back."],
        ],
        "carrier": [
            ["The subscriber you have dialed is not available right now.",
             "Please leave your message after the beep."],
            ["The mobile phone you are calling is switched off.",
             "Please record a message after the tone, or try again later."],
            ["Welcome to the voice mail service.", "The mailbox of eight two zero, four four one,",
             "is not answering.", "Please speak after the tone."],
        ],
    },
}  # fmt: skip

# What the recorded voice (held back) says: prompt file names per sentence.
ALLISON_LIVE = [["hello"], ["hello-world"]]
ALLISON_GREETINGS = [
    [["vm-nobodyavail"], ["vm-intro"]],
    [["vm-theperson", "digits/4", "digits/0", "digits/7"], ["vm-isunavail"], ["vm-intro"]],
    [["vm-theperson", "digits/2", "digits/9"], ["vm-isonphone"], ["vm-leavemsg"]],
    [["vm-rec-unv"]],
]
BEEPS = {"tuning": [1000.0, 850.0, 1400.0], "heldback": [440.0, 950.0, 1200.0, 0.0]}  # 0: beep.wav
