# The README's demo: runs on the emulated micro:bit with `npm run demo` (or `npx tsemu FILE.py`).
from microbit import *

display.scroll("Hello World!")
print("Hello World! scrolled past; here is a heart.")
display.show(Image.HEART)
