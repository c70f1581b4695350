// cnn-lens command line (placeholder until the commands land).
console.log('cnn-lens: not yet implemented');
