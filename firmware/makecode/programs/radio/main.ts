radio.setGroup(1);
basic.forever(() => {
  radio.sendString('hi');
  basic.pause(500);
});
