abc: data for abc
Foo  bar baz  
  continued line

# comment
  more
"quoted key:x" : qv
"esc\tkey" tab
empty:
colon:  :fail:
*: star
*.dom.ex: wild
*@dom.ex: atdom
x@dom.ex: exact
key2
  cont
last:last value