a.b: ab
*.dom.ex: wild
1.2.3.4: ip
1.2.3.0/24: net24
0000.0000.0000.0000.0000.0000.0000.0001: v6
lp@dom.ex: x
dom.ex: lp1 : !lp2 : ^x\d : >other
other: lp3
*: *
