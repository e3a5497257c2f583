let count = 0;
basic.forever(() => {
  serial.writeNumber(count);
  serial.writeLine('');
  count += 1;
  basic.pause(500);
});
