basic.forever(() => {
  serial.writeNumber(input.lightLevel());
  serial.writeLine('');
  basic.pause(200);
});
