input.onButtonPressed(Button.A, () => {
  serial.writeLine('A');
  basic.showString('A');
});
input.onButtonPressed(Button.B, () => {
  serial.writeLine('B');
  basic.showString('B');
});
input.onButtonPressed(Button.AB, () => {
  serial.writeLine('AB');
  basic.showString('AB');
});
