from keras_nst.cli import main

main()
