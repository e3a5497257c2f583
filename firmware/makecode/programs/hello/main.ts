basic.showString('Hello World!');
serial.writeLine('hello done');
