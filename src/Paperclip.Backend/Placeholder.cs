namespace Paperclip.Backend;
