namespace Paperclip.Transport;
