import mod_a
import mod_b

print(mod_a.helper(1), mod_b.helper(2))
